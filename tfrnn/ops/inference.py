"""The inference lowering: stock TensorFlow ops that run a whole sequence
fast where the fused op cannot go (exports, which TF Serving loads without
tfrnn's library).

tfrnn.ops.reference is written for exactness and autodiff; this module for
speed in a TF1 session (what TF Serving runs), with the same contract and
numbers (the tests hold it to the fused op). What makes it faster, measured
by benchmarks/serving_bench.py:

- States are kept unit-major ([units, B]), so each step's recurrent
  product is U^T . h^T and a gate's rows are contiguous: splitting them
  copies nothing.
- The recurrent product is cut into row blocks (the LSTM's [i; f] and
  [c; o], the GRU's [z; r] and [n]): separate MatMuls that TensorFlow's
  inter-op threads run at once. One small MatMul barely gains from a second
  intra-op thread; two of them run side by side (2x at B32 H256, 2 cores).
- x.W of every step is one batched GEMM before the loop, already in that
  layout, with the biases that only add folded in.
- The loop runs UNROLL steps an iteration (the input padded to a multiple:
  padded steps lie beyond every row's length, so they change nothing).
- A reverse run is a forward run over tf.reverse_sequence'd inputs.

The single steps that decoding runs are the reference's: a step has no loop
to restructure.
"""

import tensorflow as tf

from tfrnn.ops import reference
from tfrnn.ops.reference import gru_step, lstm_step, rnn_step  # noqa: F401

# Steps per while-loop iteration: fewer loop-control ops a step, a graph
# that stays small (8 and 16 measured alike; 1 and 4 slower at B = 1).
UNROLL = 8


def _padded_steps(time):
    """The steps the loop runs: T rounded up to a multiple of UNROLL, and at
    least one UNROLL (so that an empty sequence still stacks a shape)."""
    return tf.maximum((time + UNROLL - 1) // UNROLL, 1) * UNROLL


def _input_products(kernel, bias, norm=None):
    """The prepare of x for _walk: x's part of UNROLL steps from their
    slice [B, UNROLL, I], x.W (then `norm`, the LSTM's layer norm) + bias
    as one GEMM, unit-major [UNROLL, gates*H, B]."""
    def prepare(chunk):
        batch = tf.shape(chunk)[0]
        z = tf.matmul(tf.reshape(chunk, [-1, tf.shape(chunk)[2]]), kernel)
        z = tf.nn.bias_add(z if norm is None else norm(z), bias)
        z = tf.reshape(z, [batch, UNROLL, tf.shape(kernel)[1]])
        return tf.transpose(z, [1, 2, 0])
    return prepare


def _unit_major(chunk):
    """The default prepare: [B, UNROLL, W] -> [UNROLL, W, B]."""
    return tf.transpose(chunk, [1, 2, 0])


def _walk(sequences, states, padded, step):
    """Runs states = step(inputs, states) over the padded steps.
    `sequences` are (tensor [B, T, ...], prepare) pairs: each iteration
    slices UNROLL steps of each (zero past T), prepare makes them [UNROLL,
    ..., B], and step k gets [k] of each. Slicing x and its GEMM there,
    not before the loop, moves no whole sequence and lets the loop's
    parallel iterations run them ahead of the recurrence. Returns every
    step's states, [T', width, B] each: a row's own steps, then steps past
    its end that the caller discards."""
    walked = [tf.TensorArray(s.dtype, size=padded, element_shape=s.shape)
              for s in states]

    def body(n, walked, states):
        inputs = []
        for sequence, prepare in sequences:
            chunk = sequence[:, n * UNROLL:(n + 1) * UNROLL]
            missing = UNROLL - tf.shape(chunk)[1]
            chunk = tf.pad(chunk, [[0, 0], [0, missing]] + [[0, 0]] * (
                sequence.shape.rank - 2))
            inputs.append(tf.unstack(prepare(chunk), UNROLL))
        for k in range(UNROLL):
            states = step([i[k] for i in inputs], states)
            walked = [w.write(n * UNROLL + k, s)
                      for w, s in zip(walked, states)]
        return n + 1, walked, states

    _, walked, _ = tf.while_loop(lambda n, *_: n < padded // UNROLL, body,
                                 (tf.constant(0), walked, list(states)))
    return [w.stack() for w in walked]


def _last_steps(walked, lengths, initial):
    """Each row's state after its last step: column b of walked [T', W,
    B] at step lengths[b] - 1 (initial [W, B] where the row is empty), by
    one gather on the flat sequence."""
    shape = tf.shape(walked, out_type=tf.int64)
    width, batch = shape[1], shape[2]
    steps = tf.maximum(tf.cast(lengths, tf.int64) - 1, 0)
    index = ((steps[None, :] * width + tf.range(width)[:, None]) * batch
             + tf.range(batch)[None, :])
    last = tf.gather(tf.reshape(walked, [-1]), index)
    return tf.where(lengths[None, :] > 0, last, initial)


def _sequence(x, per_step, states, lengths, reverse, prepare_x, step):
    """Runs a cell over x [B, T, I] with the ops' length and direction
    semantics. prepare_x makes x's part of UNROLL steps (_walk);
    per_step are [B, T, ...] tensors step t also reads
    (zoneout); states are [B, width], the output's first. step(inputs,
    states) -> new states, all unit-major. Returns (outputs [B, T, width],
    *final states [B, width])."""
    time = tf.shape(x)[1]
    if reverse:
        x, *per_step = [tf.reverse_sequence(t, lengths, 1, 0)
                        for t in [x] + per_step]
    padded = _padded_steps(time)
    initial = [tf.transpose(s) for s in states]
    walked = _walk([(x, prepare_x)] + [(t, _unit_major) for t in per_step],
                   initial, padded, step)
    final = [tf.transpose(_last_steps(w, lengths, s))
             for w, s in zip(walked, initial)]
    outputs = tf.transpose(walked[0][:time], [2, 0, 1])
    ran = tf.sequence_mask(lengths, time)[..., None]
    outputs = tf.where(ran, outputs, tf.zeros_like(outputs))
    if reverse:
        outputs = tf.reverse_sequence(outputs, lengths, 1, 0)
    return (outputs, *final)


def _units_layer_norm(z, gain, groups, epsilon, shift=None):
    """reference.layer_norm over the units of unit-major z [..., groups*H,
    B]: each of the `groups` slices of axis -2 normalised, times gain."""
    shape = tf.shape(z)
    parts = tf.reshape(z, tf.concat([shape[:-2], [groups, -1, shape[-1]]],
                                    0))
    mean, variance = tf.nn.moments(parts, axes=[-2], keepdims=True)
    normed = tf.reshape((parts - mean) * tf.math.rsqrt(variance + epsilon),
                        shape) * gain[:, None]
    return normed if shift is None else normed + shift[:, None]


def _rows(matrix, columns):
    """The transposed column ranges of `matrix`: the recurrent kernel's
    row blocks as unit-major products use them."""
    return [tf.transpose(matrix[:, start:stop]) for start, stop in columns]


def _at_step(zoneout, per_step):
    """A zoneout's value for this step: a scalar (or None) as it is, else
    the next of the step's per-step inputs."""
    if zoneout is None or zoneout.shape.rank == 0:
        return zoneout
    return next(per_step)


def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias,
                  sequence_length, reverse=False, return_cell_sequence=False,
                  recurrent_mask=None, peephole=None, zoneout_h=None,
                  zoneout_c=None, cell_clip=-1.0, layer_norm_weights=None,
                  layer_norm_epsilon=1e-3, projection=None):
    """reference.lstm_sequence's contract and numbers, in fewer and
    parallel ops (the module's doc)."""
    if return_cell_sequence:  # analysis only: no export needs it fast
        return reference.lstm_sequence(
            x, h0, c0, kernel, recurrent_kernel, bias, sequence_length,
            reverse, True, recurrent_mask, peephole, zoneout_h, zoneout_c,
            cell_clip, layer_norm_weights, layer_norm_epsilon, projection)
    x, (peephole, zoneout_h, zoneout_c, projection, ln) = \
        reference.checked_lstm(x, h0, c0, kernel, recurrent_kernel, bias,
                               sequence_length, peephole, zoneout_h,
                               zoneout_c, projection, layer_norm_weights)
    mask = reference.option(recurrent_mask)
    with tf.control_dependencies(reference.check_recurrent_mask(mask, h0)):
        x = tf.identity(x)
    units = tf.shape(c0)[-1]
    columns = [(0, 2 * units), (2 * units, 4 * units)]  # [i; f], [c; o]
    norm_x = norm_h = norm_c = None
    if ln is not None:
        gain_x, gain_h, gain_c, shift_c = ln
        norm_x = lambda z: reference.layer_norm(  # noqa: E731
            z, gain_x, groups=4, epsilon=layer_norm_epsilon)
        norm_h = [lambda z, g=gain_h[start:stop]: _units_layer_norm(
            z, g, 2, layer_norm_epsilon) for start, stop in columns]
        norm_c = lambda c: _units_layer_norm(  # noqa: E731
            c, gain_c, 1, layer_norm_epsilon, shift_c)
    u_if, u_co = _rows(recurrent_kernel, columns)
    mask_t = None if mask is None else tf.transpose(mask)
    peep = None if peephole is None else peephole[:, :, None]  # [3, H, 1]
    projection_t = None if projection is None else tf.transpose(projection)

    def step(inputs, states):
        x_t, *rest = inputs
        x_if, x_co = tf.split(x_t, 2)
        per_step = iter(rest)
        h, c = states
        held = h if mask_t is None else h * mask_t
        z_if, z_co = tf.matmul(u_if, held), tf.matmul(u_co, held)
        if norm_h is not None:
            z_if, z_co = norm_h[0](z_if), norm_h[1](z_co)
        z_if, z_co = x_if + z_if, x_co + z_co
        if peep is None:
            i, f = tf.split(tf.sigmoid(z_if), 2)
        else:
            z_i, z_f = tf.split(z_if, 2)
            i, f = (tf.sigmoid(z_i + peep[0] * c),
                    tf.sigmoid(z_f + peep[1] * c))
        z_c, z_o = tf.split(z_co, 2)
        c_new = f * c + i * tf.tanh(z_c)
        if cell_clip >= 0:
            c_new = tf.clip_by_value(c_new, -cell_clip, cell_clip)
        if peep is not None:
            z_o = z_o + peep[2] * c_new
        h_new = tf.sigmoid(z_o) * tf.tanh(
            c_new if norm_c is None else norm_c(c_new))
        if projection_t is not None:
            h_new = tf.matmul(projection_t, h_new)
        keep_h, keep_c = (_at_step(zoneout_h, per_step),
                          _at_step(zoneout_c, per_step))
        if keep_h is not None:
            h_new = keep_h * h + (1 - keep_h) * h_new
        if keep_c is not None:
            c_new = keep_c * c + (1 - keep_c) * c_new
        return [h_new, c_new]

    per_step = [z for z in (zoneout_h, zoneout_c)
                if z is not None and z.shape.rank != 0]
    return _sequence(x, per_step, [h0, c0], sequence_length, reverse,
                     _input_products(kernel, bias, norm_x), step)


def gru_sequence(x, h0, kernel, recurrent_kernel, bias, sequence_length,
                 reverse=False, recurrent_mask=None):
    """reference.gru_sequence's contract and numbers (reset_after=True;
    bias [2, 3H]), in fewer and parallel ops."""
    x = reference.checked(x, [("h0", h0)], kernel, recurrent_kernel, bias,
                          sequence_length, gates=3, bias_rows=2)
    mask = reference.option(recurrent_mask)
    with tf.control_dependencies(reference.check_recurrent_mask(mask, h0)):
        x = tf.identity(x)
    units = tf.shape(h0)[-1]
    columns = [(0, 2 * units), (2 * units, 3 * units)]  # [z; r], [n]
    # z and r take both biases as a sum; n's recurrent bias is inside r * ..
    input_bias = tf.concat([bias[0, :2 * units] + bias[1, :2 * units],
                            bias[0, 2 * units:]], 0)
    u_zr, u_n = _rows(recurrent_kernel, columns)
    recurrent_bias_n = bias[1, 2 * units:][:, None]
    mask_t = None if mask is None else tf.transpose(mask)

    def step(inputs, states):
        x_zr, x_n = tf.split(inputs[0], tf.stack([2 * units, units]), num=2)
        h = states[0]
        held = h if mask_t is None else h * mask_t
        z, r = tf.split(tf.sigmoid(x_zr + tf.matmul(u_zr, held)), 2)
        n = tf.tanh(x_n + r * (tf.matmul(u_n, held) + recurrent_bias_n))
        h_new = z * h + (1 - z) * n
        return [h_new]

    return _sequence(x, [], [h0], sequence_length, reverse,
                     _input_products(kernel, input_bias), step)


def rnn_sequence(x, h0, kernel, recurrent_kernel, bias, sequence_length,
                 reverse=False, nonlinearity="tanh", recurrent_mask=None):
    """reference.rnn_sequence's contract and numbers, in fewer ops."""
    activation = reference.rnn_activation(nonlinearity)
    x = reference.checked(x, [("h0", h0)], kernel, recurrent_kernel, bias,
                          sequence_length, gates=1)
    mask = reference.option(recurrent_mask)
    with tf.control_dependencies(reference.check_recurrent_mask(mask, h0)):
        x = tf.identity(x)
    columns = [(0, tf.shape(h0)[-1])]
    (u,) = _rows(recurrent_kernel, columns)
    mask_t = None if mask is None else tf.transpose(mask)

    def step(inputs, states):
        h = states[0] if mask_t is None else states[0] * mask_t
        h_new = activation(inputs[0] + tf.matmul(u, h))
        return [h_new]

    return _sequence(x, [], [h0], sequence_length, reverse,
                     _input_products(kernel, bias), step)
