"""Pure-TensorFlow LSTM, GRU and Elman RNN with the fused ops' exact contracts.

Used when the compiled library is unavailable, and in tests as a second
reference. Semantics (see the op's doc): batch-major, Keras gate order
i, f, c, o; row b runs steps 0..len[b]-1 (backwards when reverse); outputs at
steps that do not run are zero and the final state is the state after the
row's last step. Gradients come from TensorFlow's autodiff.
"""

import numpy as np
import tensorflow as tf

from tfrnn.ops.inputs import check_nonlinearity, invalid_argument


def _assert_equal(actual, expected, message):
    """An assertion that two int vectors are equal; in a graph, decided
    while tracing when both are known then (None when they are equal): a
    runtime assertion costs a dozen ops, every step of a decoding loop."""
    if not tf.executing_eagerly():
        known = [tf.get_static_value(tf.convert_to_tensor(t))
                 for t in (actual, expected)]
        if known[0] is not None and known[1] is not None:
            if not np.array_equal(known[0], known[1]):
                raise invalid_argument(message)
            return None
    # int32 data: TensorFlow then adds no cond around the Assert.
    return tf.debugging.assert_equal(
        tf.cast(actual, tf.int32), tf.cast(expected, tf.int32),
        message=message)


def _dim(t, axis):
    """t's size along `axis`: a Python int when the static shape knows it
    (so that checks against it are decided while tracing), else a
    tensor."""
    size = t.shape[axis] if t.shape.rank is not None else None
    return tf.shape(t)[axis] if size is None else size


def check_inputs(x, states, kernel, recurrent_kernel, bias,
                 sequence_length=None, x_rank=3, gates=4, bias_rows=None,
                 projection=None):
    """A fused op's input checks as TF assertions (InvalidArgumentError).

    states: (name, tensor) pairs, h first, each [B, H]. The weights are
    kernel [I, gates*H], recurrent_kernel [H, gates*H] and bias
    [gates*H] (or [bias_rows, gates*H]); under the LSTM's projection
    [H, P], h and recurrent_kernel's rows are P wide. Ranks are checked at
    once; sizes and length ranges return assertion ops, run eagerly or
    attached with control dependencies in a graph.
    """
    bias_rank = 1 if bias_rows is None else 2
    tensors = [("x", x, x_rank)] + [(n, t, 2) for n, t in states] + [
        ("kernel", kernel, 2), ("recurrent_kernel", recurrent_kernel, 2),
        ("bias", bias, bias_rank)]
    if projection is not None:
        tensors.append(("projection_kernel", projection, 2))
    if sequence_length is not None:
        tensors.append(("sequence_length", sequence_length, 1))
    for name, t, rank in tensors:
        if t.shape.rank is not None and t.shape.rank != rank:
            raise invalid_argument(
                f"{name} must be rank {rank}, got shape {t.shape}")
    units, hidden = lstm_widths(recurrent_kernel, projection)
    batch, features = _dim(x, 0), _dim(x, -1)
    width = gates * units
    bias_shape = [width] if bias_rows is None else tf.stack([bias_rows, width])
    bias_text = (f"[{gates}H]" if bias_rows is None
                 else f"[{bias_rows}, {gates}H]")
    checks = [
        _assert_equal(tf.shape(recurrent_kernel), tf.stack([hidden, width]),
                      f"recurrent_kernel must have shape [H, {gates}H] (or "
                      f"[P, {gates}H] under a projection [H, P])"),
        _assert_equal(tf.shape(kernel), tf.stack([features, width]),
                      f"kernel must have shape [input features, {gates}H]"),
        _assert_equal(tf.shape(bias), bias_shape,
                      f"bias must have shape {bias_text}"),
    ]
    h_text = "H" if projection is None else "P"
    for k, (name, t) in enumerate(states):  # h, then c
        checks.append(_assert_equal(
            tf.shape(t), tf.stack([batch, hidden if k == 0 else units]),
            f"{name} must have shape [B, {h_text if k == 0 else 'H'}]"))
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
    return _kept(checks)


def _kept(checks):
    """The assertions left to run (those decided while tracing are
    None)."""
    return [c for c in checks if c is not None]


def lstm_widths(recurrent_kernel, projection=None):
    """(H, h's width), each a Python int where the static shape knows it,
    else a tensor: (projection's rows, its columns) under a projection
    [H, P], else recurrent_kernel's rows twice."""
    if projection is None:
        units = _dim(recurrent_kernel, 0)
        return units, units
    return _dim(projection, 0), _dim(projection, 1)


def checked(x, *args, **kwargs):
    """x, with the input checks attached as control dependencies."""
    with tf.control_dependencies(check_inputs(x, *args, **kwargs)):
        return tf.identity(x)


def _run_sequence(x, states, sequence_length, reverse, step,
                  output_width=None):
    """Runs step(t, states) -> (output, new_states) over the steps of each
    row, with the fused ops' length and direction semantics. Outputs are
    [B, output_width] (default: the first state's width)."""
    time = tf.shape(x)[1]
    active = tf.transpose(tf.sequence_mask(sequence_length, time))[..., None]
    shape = states[0].shape
    if output_width is not None:
        shape = shape[:-1].concatenate([output_width])
    outputs = tf.TensorArray(x.dtype, size=time, element_shape=shape)

    def body(s, outputs, *states):
        t = time - 1 - s if reverse else s
        output, new_states = step(t, states)
        runs = active[t]
        outputs = outputs.write(t, tf.where(runs, output,
                                            tf.zeros_like(output)))
        kept = [tf.where(runs, new, old)
                for new, old in zip(new_states, states)]
        return (s + 1, outputs, *kept)

    _, outputs, *final = tf.while_loop(
        lambda s, *_: s < time, body, (tf.constant(0), outputs, *states))
    return (tf.transpose(outputs.stack(), [1, 0, 2]), *final)


def check_recurrent_mask(recurrent_mask, h):
    """The recurrent mask's shape check ([B,H], h's) as a TF assertion
    list (empty without a mask)."""
    if option(recurrent_mask) is None:
        return []
    return _kept([_assert_equal(
        tf.shape(recurrent_mask), tf.shape(h),
        "recurrent_mask must have shape [batch, units] (or be None)")])


def _masked(h, recurrent_mask):
    """h as the recurrent product sees it: times the mask when there is one
    ([B,H], checked against h's shape). None or shape [0] is no mask, as in
    the ops' contract."""
    if option(recurrent_mask) is None:
        return h
    with tf.control_dependencies(check_recurrent_mask(recurrent_mask, h)):
        return h * recurrent_mask


def layer_norm(z, gain, shift=None, groups=1, epsilon=1e-3):
    """Normalises each of `groups` equal slices of z's last axis (Ba et al.
    2016: mean 0, variance 1 with `epsilon` added), times gain, plus
    shift."""
    shape = tf.shape(z)
    parts = tf.reshape(z, tf.concat([shape[:-1], [groups, -1]], 0))
    mean, variance = tf.nn.moments(parts, axes=[-1], keepdims=True)
    normed = tf.reshape((parts - mean) * tf.math.rsqrt(variance + epsilon),
                        shape) * gain
    return normed if shift is None else normed + shift


def _cell(z, c_prev, h_prev=None, peephole=None, zoneout_h=None,
          zoneout_c=None, cell_clip=-1.0, norm_c=None, projection=None):
    """One step of gate math on pre-activations z [B,4H], with the op's
    options (custom_ops/cells/lstm/lstm_cell.h; None or a negative clip: off);
    norm_c, when given, maps c_t to what tanh reads (layer norm);
    projection [H,P] multiplies o * tanh(..) before zoneout_h."""
    i, f, g, o = tf.split(z, 4, axis=-1)
    if peephole is not None:
        i, f = i + peephole[0] * c_prev, f + peephole[1] * c_prev
    c = tf.sigmoid(f) * c_prev + tf.sigmoid(i) * tf.tanh(g)
    if cell_clip >= 0:
        c = tf.clip_by_value(c, -cell_clip, cell_clip)
    if peephole is not None:
        o = o + peephole[2] * c
    h = tf.sigmoid(o) * tf.tanh(c if norm_c is None else norm_c(c))
    if projection is not None:
        h = tf.matmul(h, projection)
    if zoneout_h is not None:
        h = zoneout_h * h_prev + (1 - zoneout_h) * h
    if zoneout_c is not None:
        c = zoneout_c * c_prev + (1 - zoneout_c) * c
    return h, c


def option(tensor):
    """An option input as _cell takes it: None for the op's [0] "none"."""
    if tensor is None or (tensor.shape.rank == 1 and tensor.shape[0] == 0):
        return None
    return tensor


def layer_norm_option(weights):
    """The layer norm's (gain_x, gain_h, gain_c, shift_c), or None when all
    four are the op's [0] "none"; InvalidArgumentError for a mix."""
    if weights is None:
        return None
    given = [option(w) is not None for w in weights]
    if not any(given):
        return None
    if not all(given):
        raise invalid_argument("layer norm takes gain_x, gain_h, gain_c and "
                               "shift_c together: give all four, or none")
    return tuple(weights)


def check_layer_norm(units, weights):
    """gain_x, gain_h [4H], gain_c, shift_c [H], as TF assertions."""
    if weights is None:
        return []
    return _kept([_assert_equal(tf.shape(w), [size], f"{name} must have "
                                f"shape [{text}]")
                  for w, name, size, text in zip(
                      weights, ("gain_x", "gain_h", "gain_c", "shift_c"),
                      (4 * units, 4 * units, units, units),
                      ("4H", "4H", "H", "H"))])


def _normalisers(layer_norm_weights, epsilon):
    """(x-side, h-side, c) normalisers of the layer norm (each None when
    it is off), as the op's formulas."""
    if layer_norm_weights is None:
        return None, None, None
    gain_x, gain_h, gain_c, shift_c = layer_norm_weights
    return (lambda z: layer_norm(z, gain_x, groups=4, epsilon=epsilon),
            lambda z: layer_norm(z, gain_h, groups=4, epsilon=epsilon),
            lambda c: layer_norm(c, gain_c, shift_c, epsilon=epsilon))


def check_options(x, units, peephole, zoneouts):
    """The op's checks of its options, as TF assertions (as check_inputs):
    peephole [3, H]; each zoneout (name, z, its state's width) a scalar or
    [B, T, width] in [0, 1]."""
    checks = []
    if peephole is not None:
        checks.append(_assert_equal(tf.shape(peephole), tf.stack([3, units]),
                                    "peephole must have shape [3, H]"))
    for name, z, width in zoneouts:
        if z is None:
            continue
        if z.shape.rank not in (None, 0, 3):
            raise invalid_argument(f"{name} must be a scalar or [B, T, H], "
                                   f"got shape {z.shape}")
        if z.shape.rank == 3:
            checks.append(_assert_equal(
                tf.shape(z), tf.concat([tf.shape(x)[:2], [width]], 0),
                f"{name} must have shape [B, T, H]"))
        checks += [
            tf.debugging.assert_greater_equal(
                z, tf.zeros([], z.dtype), message=f"{name} must lie in [0, 1]"),
            tf.debugging.assert_less_equal(
                z, tf.ones([], z.dtype), message=f"{name} must lie in [0, 1]")]
    return _kept(checks)


def _zoneout_at(zoneout, t):
    """Step t's zoneout weights: a scalar as it is, [B,T,H] at t."""
    if zoneout is None or zoneout.shape.rank == 0:
        return zoneout
    return zoneout[:, t]


def checked_lstm(x, h0, c0, kernel, recurrent_kernel, bias,
                 sequence_length, peephole, zoneout_h, zoneout_c, projection,
                 layer_norm_weights):
    """(x with every input check of the sequence op attached, the options
    as (peephole, zoneout_h, zoneout_c, projection, layer norm), each None
    when off)."""
    peephole, zoneout_h, zoneout_c, projection = (
        option(peephole), option(zoneout_h), option(zoneout_c),
        option(projection))
    ln = layer_norm_option(layer_norm_weights)
    x = checked(x, [("h0", h0), ("c0", c0)], kernel, recurrent_kernel, bias,
                sequence_length, projection=projection)
    units, hidden = lstm_widths(recurrent_kernel, projection)
    with tf.control_dependencies(check_options(
            x, units, peephole, [("zoneout_h", zoneout_h, hidden),
                                 ("zoneout_c", zoneout_c, units)]) +
            check_layer_norm(units, ln)):
        x = tf.identity(x)
    return x, (peephole, zoneout_h, zoneout_c, projection, ln)


def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias,
                  sequence_length, reverse=False, return_cell_sequence=False,
                  recurrent_mask=None, peephole=None, zoneout_h=None,
                  zoneout_c=None, cell_clip=-1.0, layer_norm_weights=None,
                  layer_norm_epsilon=1e-3, projection=None):
    """Returns (output [B,T,H], h_n, c_n) of a whole-sequence LSTM, and the
    cell state of every step [B,T,H] when return_cell_sequence.
    recurrent_mask [B,H] multiplies h_{t-1} in h.U at every step; the
    options are tfrnn.ops.lstm_sequence's (None or [0]: off;
    layer_norm_weights: (gain_x, gain_h, gain_c, shift_c))."""
    x, (peephole, zoneout_h, zoneout_c, projection, ln) = checked_lstm(
        x, h0, c0, kernel, recurrent_kernel, bias, sequence_length,
        peephole, zoneout_h, zoneout_c, projection, layer_norm_weights)
    norm_x, norm_h, norm_c = _normalisers(ln, layer_norm_epsilon)
    xw = tf.einsum("bti,ig->tbg", x, kernel)  # every step's x.W
    xw = (xw if norm_x is None else norm_x(xw)) + bias

    def step(t, states):
        h, c = states
        hu = tf.matmul(_masked(h, recurrent_mask), recurrent_kernel)
        h, c = _cell(xw[t] + (hu if norm_h is None else norm_h(hu)), c, h,
                     peephole, _zoneout_at(zoneout_h, t),
                     _zoneout_at(zoneout_c, t), cell_clip, norm_c, projection)
        return (tf.concat([h, c], -1) if return_cell_sequence else h), (h, c)

    width = None
    if return_cell_sequence and None not in (h0.shape[-1], c0.shape[-1]):
        width = h0.shape[-1] + c0.shape[-1]
    output, h_n, c_n = _run_sequence(x, [h0, c0], sequence_length, reverse,
                                     step, output_width=width)
    if return_cell_sequence:
        output, cells = tf.split(output, [tf.shape(h0)[-1], -1], axis=-1)
        return output, h_n, c_n, cells
    return output, h_n, c_n


def lstm_step(x, h, c, kernel, recurrent_kernel, bias, peephole=None,
              zoneout_h=None, zoneout_c=None, cell_clip=-1.0,
              layer_norm_weights=None, layer_norm_epsilon=1e-3,
              projection=None):
    """Returns (h_new, c_new) of one LSTM step on x [B,I], with
    lstm_sequence's options (a per-step zoneout [B,H])."""
    options = [option(t) for t in (peephole, zoneout_h, zoneout_c)]
    projection = option(projection)
    ln = layer_norm_option(layer_norm_weights)
    for name, z in zip(("zoneout_h", "zoneout_c"), options[1:]):
        if z is not None and z.shape.rank not in (None, 0, 2):
            raise invalid_argument(f"{name} of a step must be a scalar or "
                                   f"[B, H], got shape {z.shape}")
    x = checked(x, [("h", h), ("c", c)], kernel, recurrent_kernel, bias,
                 x_rank=2, projection=projection)
    units, _ = lstm_widths(recurrent_kernel, projection)
    with tf.control_dependencies(check_layer_norm(units, ln)):
        x = tf.identity(x)
    norm_x, norm_h, norm_c = _normalisers(ln, layer_norm_epsilon)
    xw, hu = tf.matmul(x, kernel), tf.matmul(h, recurrent_kernel)
    if ln is not None:
        xw, hu = norm_x(xw), norm_h(hu)
    return _cell(xw + hu + bias, c, h, *options, cell_clip=cell_clip,
                 norm_c=norm_c, projection=projection)


def _gru_cell(xw, h, recurrent_kernel, recurrent_bias, recurrent_mask=None):
    """One GRU step (reset_after=True) from x.W + input bias [B,3H]; the
    mask, if any, applies to h in h.U only."""
    x_z, x_r, x_n = tf.split(xw, 3, axis=-1)
    rec = tf.matmul(_masked(h, recurrent_mask), recurrent_kernel) + \
        recurrent_bias
    r_z, r_r, r_n = tf.split(rec, 3, axis=-1)
    z = tf.sigmoid(x_z + r_z)
    r = tf.sigmoid(x_r + r_r)
    n = tf.tanh(x_n + r * r_n)
    return z * h + (1 - z) * n


def gru_sequence(x, h0, kernel, recurrent_kernel, bias, sequence_length,
                 reverse=False, recurrent_mask=None):
    """Returns (output [B,T,H], h_n) of a whole-sequence GRU (Keras's
    reset_after=True variant; bias [2, 3H] = input bias, recurrent bias)."""
    x = checked(x, [("h0", h0)], kernel, recurrent_kernel, bias,
                 sequence_length, gates=3, bias_rows=2)
    xw = tf.einsum("bti,ig->tbg", x, kernel) + bias[0]

    def step(t, states):
        h = _gru_cell(xw[t], states[0], recurrent_kernel, bias[1],
                      recurrent_mask)
        return h, (h,)

    return _run_sequence(x, [h0], sequence_length, reverse, step)


def gru_step(x, h, kernel, recurrent_kernel, bias, recurrent_mask=None):
    """Returns h_new of one GRU step on x [B,I] (recurrent_mask as in
    gru_sequence)."""
    x = checked(x, [("h", h)], kernel, recurrent_kernel, bias, x_rank=2,
                 gates=3, bias_rows=2)
    return _gru_cell(tf.matmul(x, kernel) + bias[0], h, recurrent_kernel,
                     bias[1], recurrent_mask)


def rnn_activation(nonlinearity):
    check_nonlinearity(nonlinearity)
    return tf.tanh if nonlinearity == "tanh" else tf.nn.relu


def rnn_sequence(x, h0, kernel, recurrent_kernel, bias, sequence_length,
                 reverse=False, nonlinearity="tanh", recurrent_mask=None):
    """Returns (output [B,T,H], h_n) of a whole-sequence Elman RNN:
    h_t = nonlinearity(x.W + b + h_{t-1}.U), bias [H]."""
    activation = rnn_activation(nonlinearity)
    x = checked(x, [("h0", h0)], kernel, recurrent_kernel, bias,
                 sequence_length, gates=1)
    xw = tf.einsum("bti,ig->tbg", x, kernel) + bias

    def step(t, states):
        h = activation(xw[t] + tf.matmul(_masked(states[0], recurrent_mask),
                                         recurrent_kernel))
        return h, (h,)

    return _run_sequence(x, [h0], sequence_length, reverse, step)


def rnn_step(x, h, kernel, recurrent_kernel, bias, nonlinearity="tanh"):
    """Returns h_new of one Elman RNN step on x [B,I]."""
    activation = rnn_activation(nonlinearity)
    x = checked(x, [("h", h)], kernel, recurrent_kernel, bias, x_rank=2,
                 gates=1)
    return activation(tf.matmul(x, kernel) + tf.matmul(h, recurrent_kernel)
                      + bias)
