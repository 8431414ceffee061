"""Random LSTM problems and Keras's own LSTM as the reference."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf


@dataclasses.dataclass
class Problem:
    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray
    lengths: np.ndarray  # or None: every row runs all steps
    # Upstream gradients for output, h_n, c_n (a random linear loss).
    d_output: np.ndarray
    d_h: np.ndarray
    d_c: np.ndarray

    @property
    def inputs(self):
        return [self.x, self.h0, self.c0, self.kernel, self.recurrent_kernel,
                self.bias]


def make_problem(rng, batch, time, features, units, dtype="float32",
                 lengths=None):
    def normal(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    return Problem(
        x=normal(batch, time, features), h0=normal(batch, units, scale=0.5),
        c0=normal(batch, units, scale=0.5),
        kernel=normal(features, 4 * units, scale=0.5),
        recurrent_kernel=normal(units, 4 * units, scale=0.5),
        bias=normal(4 * units, scale=0.5),
        lengths=None if lengths is None else np.asarray(lengths, np.int32),
        d_output=normal(batch, time, units), d_h=normal(batch, units),
        d_c=normal(batch, units))


def linear_loss(p, output, h_n, c_n):
    """A random linear loss, so its gradients are the problem's d_* arrays."""
    return (tf.reduce_sum(output * p.d_output) + tf.reduce_sum(h_n * p.d_h)
            + tf.reduce_sum(c_n * p.d_c))


def run_with_grads(fn, p):
    """fn(x, h0, c0, kernel, rk, bias) -> (output, h_n, c_n); returns the
    three results and the six gradients of the problem's linear loss."""
    tensors = [tf.constant(a) for a in p.inputs]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        output, h_n, c_n = fn(*tensors)
        loss = linear_loss(p, output, h_n, c_n)
    grads = tape.gradient(loss, tensors,
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return [t.numpy() for t in (output, h_n, c_n)], [g.numpy() for g in grads]


def keras_results(p, reverse=False):
    """(output, h_n, c_n) and the six gradients from Keras's LSTM with the
    problem's weights copied in, aligned with the op's contract."""
    units, time = p.h0.shape[1], p.x.shape[1]
    layer = keras.layers.LSTM(units, return_sequences=True, return_state=True,
                              go_backwards=reverse, zero_output_for_mask=True,
                              dtype=p.x.dtype.name)
    layer.build(p.x.shape)
    layer.set_weights([p.kernel, p.recurrent_kernel, p.bias])
    x, h0, c0 = (tf.constant(a) for a in (p.x, p.h0, p.c0))
    mask = None if p.lengths is None else tf.sequence_mask(p.lengths, time)
    with tf.GradientTape() as tape:
        tape.watch([x, h0, c0])
        output, h_n, c_n = layer(x, initial_state=[h0, c0], mask=mask)
        if reverse:  # Keras returns a backwards run in reversed time order.
            output = tf.reverse(output, [1])
        loss = linear_loss(p, output, h_n, c_n)
    grads = tape.gradient(loss, [x, h0, c0] + layer.trainable_weights)
    return ([t.numpy() for t in (output, h_n, c_n)],
            [g.numpy() for g in grads])
