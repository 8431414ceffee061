"""Random LSTM/GRU/Elman RNN problems, and Keras's own layers as the
reference."""

import dataclasses
import functools

import keras
import numpy as np
import tensorflow as tf

from tfrnn.cells import TORCH_MODES

# Per kind (tfrnn.cells.TORCH_MODES's names): Keras's layer.
KINDS = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "rnn_tanh": functools.partial(keras.layers.SimpleRNN, activation="tanh"),
    "rnn_relu": functools.partial(keras.layers.SimpleRNN, activation="relu"),
}


@dataclasses.dataclass
class Problem:
    kind: str
    x: np.ndarray
    states: list
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray
    lengths: np.ndarray  # or None: every row runs all steps
    # Upstream gradients for the output and each final state (a random
    # linear loss).
    d_output: np.ndarray
    d_states: list

    @property
    def inputs(self):
        return [self.x, *self.states, self.kernel, self.recurrent_kernel,
                self.bias]

    # LSTM names.
    h0 = property(lambda self: self.states[0])
    c0 = property(lambda self: self.states[1])
    d_h = property(lambda self: self.d_states[0])
    d_c = property(lambda self: self.d_states[1])


def recurrent_scale(kind, units):
    """The recurrent weights' scale: 0.5, or for the Elman RNN (one gate, no
    gating to damp it) 0.5/sqrt(H), so its h.U neither explodes (relu) nor
    saturates (tanh) over the steps, as an orthogonal initialisation."""
    if kind.startswith("rnn"):
        return 0.5 / max(1.0, float(np.sqrt(units)))
    return 0.5


def make_problem(rng, batch, time, features, units, dtype="float32",
                 lengths=None, kind="lstm", hidden=None):
    """hidden: h's width, when not `units` (the LSTM's projection)."""
    cell = TORCH_MODES[kind]
    widths = [hidden or units, units][:cell.states]

    def normal(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    return Problem(
        kind=kind, x=normal(batch, time, features),
        states=[normal(batch, w, scale=0.5) for w in widths],
        kernel=normal(features, cell.gates * units, scale=0.5),
        recurrent_kernel=normal(widths[0], cell.gates * units,
                                scale=recurrent_scale(kind, units)),
        bias=normal(*cell.bias_shape(units), scale=0.5),
        lengths=None if lengths is None else np.asarray(lengths, np.int32),
        d_output=normal(batch, time, widths[0]),
        d_states=[normal(batch, w) for w in widths])


def linear_loss(p, output, *states):
    """A random linear loss, so its gradients are the problem's d_* arrays."""
    loss = tf.reduce_sum(output * p.d_output)
    for state, d in zip(states, p.d_states):
        loss += tf.reduce_sum(state * d)
    return loss


def run_with_grads(fn, p):
    """fn(*p.inputs) -> (output, *final states); returns those and the
    gradients of the problem's linear loss w.r.t. every input."""
    tensors = [tf.constant(a) for a in p.inputs]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        results = fn(*tensors)
        loss = linear_loss(p, *results)
    grads = tape.gradient(loss, tensors,
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return [t.numpy() for t in results], [g.numpy() for g in grads]


def keras_results(p, reverse=False):
    """Outputs, final states and gradients from Keras's own layer with the
    problem's weights copied in, aligned with the op's contract."""
    layer_class = KINDS[p.kind]
    units, time = p.states[0].shape[1], p.x.shape[1]
    layer = layer_class(units, return_sequences=True, return_state=True,
                        go_backwards=reverse, zero_output_for_mask=True,
                        dtype=p.x.dtype.name)
    layer.build(p.x.shape)
    layer.set_weights([p.kernel, p.recurrent_kernel, p.bias])
    x = tf.constant(p.x)
    states = [tf.constant(s) for s in p.states]
    mask = None if p.lengths is None else tf.sequence_mask(p.lengths, time)
    with tf.GradientTape() as tape:
        tape.watch([x] + states)
        output, *final = layer(x, initial_state=states, mask=mask)
        if reverse:  # Keras returns a backwards run in reversed time order.
            output = tf.reverse(output, [1])
        loss = linear_loss(p, output, *final)
    grads = tape.gradient(loss, [x] + states + layer.trainable_weights)
    return ([t.numpy() for t in (output, *final)],
            [g.numpy() for g in grads])


def dropout_mask(rng, batch, units, rate=0.4, dtype="float32"):
    """A variational dropout mask [batch, units], scaled by 1/keep."""
    keep = rng.random((batch, units)) >= rate
    return (keep / (1 - rate)).astype(dtype)


def run_masked(fn, p, mask, reverse):
    """fn's outputs under a recurrent mask, and the gradients of the
    problem's random linear loss w.r.t. all inputs."""
    inputs = [tf.constant(a) for a in p.inputs]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        x, *rest = inputs
        out = fn(x, *rest, sequence_length=p.lengths, reverse=reverse,
                 recurrent_mask=tf.constant(mask))
        loss = tf.reduce_sum(out[0] * p.d_output) + sum(
            tf.reduce_sum(s * d) for s, d in zip(out[1:], p.d_states))
    return [o.numpy() for o in out] + [g.numpy() for g in
                                       tape.gradient(loss, inputs)]
