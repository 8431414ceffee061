"""Pure-TensorFlow LSTM with the fused op's exact contract.

Used when the compiled library is unavailable, and in tests as a second
reference. Semantics (see the op's doc): batch-major, Keras gate order
i, f, c, o; row b runs steps 0..len[b]-1 (backwards when reverse); outputs at
steps that do not run are zero and the final state is the state after the
row's last step. Gradients come from TensorFlow's autodiff.
"""

import tensorflow as tf


def _invalid(message):
    return tf.errors.InvalidArgumentError(None, None, message)


def _assert_equal(actual, expected, message):
    return tf.debugging.assert_equal(
        tf.cast(actual, tf.int64), tf.cast(expected, tf.int64),
        message=message)


def check_inputs(x, h0, c0, kernel, recurrent_kernel, bias,
                 sequence_length=None, x_rank=3, state_names=("h0", "c0")):
    """The fused op's input checks as TF assertions (InvalidArgumentError).

    Ranks are checked at once; sizes and length ranges return assertion ops,
    run eagerly or attached with control dependencies in a graph.
    """
    tensors = [("x", x, x_rank), (state_names[0], h0, 2),
               (state_names[1], c0, 2), ("kernel", kernel, 2),
               ("recurrent_kernel", recurrent_kernel, 2), ("bias", bias, 1)]
    if sequence_length is not None:
        tensors.append(("sequence_length", sequence_length, 1))
    for name, t, rank in tensors:
        if t.shape.rank is not None and t.shape.rank != rank:
            raise _invalid(f"{name} must be rank {rank}, got shape {t.shape}")
    units = tf.shape(recurrent_kernel)[0]
    batch = tf.shape(x)[0]
    features = tf.shape(x)[-1]
    checks = [
        _assert_equal(tf.shape(recurrent_kernel)[1], 4 * units,
                      "recurrent_kernel must have shape [H, 4H]"),
        _assert_equal(tf.shape(kernel), tf.stack([features, 4 * units]),
                      "kernel must have shape [input features, 4H]"),
        _assert_equal(tf.shape(bias), [4 * units], "bias must have shape [4H]"),
        _assert_equal(tf.shape(h0), tf.stack([batch, units]),
                      f"{state_names[0]} must have shape [B, H]"),
        _assert_equal(tf.shape(c0), tf.stack([batch, units]),
                      f"{state_names[1]} must have shape [B, H]"),
    ]
    if sequence_length is not None:
        checks += [
            _assert_equal(tf.shape(sequence_length), [batch],
                          "sequence_length must have shape [B]"),
            tf.debugging.assert_greater_equal(
                sequence_length, 0,
                message="sequence_length is outside [0, T]"),
            tf.debugging.assert_less_equal(
                sequence_length, tf.shape(x, out_type=tf.int32)[1],
                message="sequence_length is outside [0, T]"),
        ]
    return [c for c in checks if c is not None]


def _cell(z, c_prev):
    """One step of gate math on pre-activations z [B,4H]."""
    i, f, g, o = tf.split(z, 4, axis=-1)
    c = tf.sigmoid(f) * c_prev + tf.sigmoid(i) * tf.tanh(g)
    h = tf.sigmoid(o) * tf.tanh(c)
    return h, c


def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias,
                  sequence_length, reverse=False):
    """Returns (output [B,T,H], h_n, c_n) of a whole-sequence LSTM."""
    with tf.control_dependencies(check_inputs(
            x, h0, c0, kernel, recurrent_kernel, bias, sequence_length)):
        x = tf.identity(x)
    time = tf.shape(x)[1]
    # x.W + b for every step, time-major so the loop reads one slice a step.
    xw = tf.einsum("bti,ig->tbg", x, kernel) + bias
    active = tf.transpose(tf.sequence_mask(sequence_length, time))[..., None]
    outputs = tf.TensorArray(x.dtype, size=time, element_shape=h0.shape)

    def body(s, h, c, outputs):
        t = time - 1 - s if reverse else s
        h_new, c_new = _cell(xw[t] + tf.matmul(h, recurrent_kernel), c)
        runs = active[t]
        outputs = outputs.write(t, tf.where(runs, h_new, tf.zeros_like(h_new)))
        return s + 1, tf.where(runs, h_new, h), tf.where(runs, c_new, c), outputs

    _, h_n, c_n, outputs = tf.while_loop(
        lambda s, *_: s < time, body, (tf.constant(0), h0, c0, outputs))
    output = tf.transpose(outputs.stack(), [1, 0, 2])
    return output, h_n, c_n


def lstm_step(x, h, c, kernel, recurrent_kernel, bias):
    """Returns (h_new, c_new) of one LSTM step on x [B,I]."""
    with tf.control_dependencies(check_inputs(
            x, h, c, kernel, recurrent_kernel, bias, x_rank=2,
            state_names=("h", "c"))):
        x = tf.identity(x)
    return _cell(tf.matmul(x, kernel) + tf.matmul(h, recurrent_kernel) + bias,
                 c)
