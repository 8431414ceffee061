"""The inference lowering: stock TensorFlow ops that run a whole sequence
fast where the fused op cannot go (exports, which TF Serving loads without
tfrnn's library).

tfrnn.ops.reference is written for exactness and autodiff; this module for
speed in a TF1 session (what TF Serving runs), with the same contract and
numbers (tests/ops/test_inference_lowering.py holds it to the fused op). What
makes it faster, measured with benchmarks/serving_bench.py:

- Each gate matrix is cut into two column blocks (the LSTM's [i f] and
  [c o], the GRU's [z r] and [n]), so a step's h.U is two MatMuls that
  TensorFlow's inter-op threads run at once: one small MatMul gains little
  from a second intra-op thread, two run side by side (1.7-2x at B1-B32,
  H256, 2 cores).
- x.W + bias of a block of UNROLL steps is one GEMM inside the loop: the
  loop's parallel iterations run it ahead of the recurrence, and no
  whole-sequence tensor is transposed or padded.
- UNROLL steps an iteration: fewer loop-control ops a step.
- No per-step select for per-row lengths: a row runs on past its end, its
  outputs there are zeroed once and its final states are gathered from
  the step where it ended.
- A reverse run is a forward run over tf.reverse_sequence'd inputs.

States stay batch-major [B, width]: a unit-major layout (U^T . h^T, gates
split without a copy) measured 2-3x slower MatMuls at B2-B16.
The single steps that decoding runs are the reference's.
"""

import tensorflow as tf

from tfrnn.ops import reference
from tfrnn.ops.reference import gru_step, lstm_step, rnn_step  # noqa: F401

# Steps per while-loop iteration (8 and 16 measured alike at B32; 1 and 4
# slower at B1).
UNROLL = 8


def _padded_steps(time):
    """The steps the loop runs: T rounded up to a multiple of UNROLL, and at
    least one UNROLL (so that an empty sequence still stacks a shape)."""
    return tf.maximum((time + UNROLL - 1) // UNROLL, 1) * UNROLL


def _time_major(chunk):
    """The default prepare: [B, UNROLL, ...] -> [[UNROLL, B, ...]]."""
    rank = chunk.shape.rank
    return [tf.transpose(chunk, [1, 0] + list(range(2, rank)))]


def _input_products(kernel, bias, columns, norms=None):
    """The prepare of x for _walk: from x's slice [B, UNROLL, I], per
    column block of kernel [I, gates*H], x.W (then the block's `norms`, the
    LSTM's layer norm) + bias as one GEMM, [UNROLL, B, block width] each."""
    blocks = list(zip(_column_blocks(kernel, columns),
                      [bias[start:stop] for start, stop in columns]))

    def prepare(chunk):
        batch, features = tf.shape(chunk)[0], tf.shape(chunk)[2]
        rows = tf.reshape(tf.transpose(chunk, [1, 0, 2]), [-1, features])
        products = []
        for k, (weights, block_bias) in enumerate(blocks):
            z = tf.matmul(rows, weights)
            if norms is not None:
                z = norms[k](z)
            z = tf.nn.bias_add(z, block_bias)
            products.append(tf.reshape(
                z, tf.stack([UNROLL, batch, tf.shape(weights)[1]])))
        return products
    return prepare


def _walk(sequences, states, padded, step):
    """Runs states = step(inputs, states) over the padded steps.
    `sequences` are (tensor [B, T, ...], prepare) pairs: each iteration
    slices UNROLL steps of each (zero past T), prepare turns the slice
    into tensors [UNROLL, B, ...], and step k gets [k] of each. Returns
    every step's states, [T', B, width] each: a row's own steps, then steps
    past its end that the caller discards."""
    walked = [tf.TensorArray(s.dtype, size=padded, element_shape=s.shape)
              for s in states]

    def body(n, walked, states):
        inputs = []
        for sequence, prepare in sequences:
            chunk = sequence[:, n * UNROLL:(n + 1) * UNROLL]
            missing = UNROLL - tf.shape(chunk)[1]
            chunk = tf.pad(chunk, [[0, 0], [0, missing]] + [[0, 0]] * (
                sequence.shape.rank - 2))
            inputs += [tf.unstack(t, UNROLL) for t in prepare(chunk)]
        for k in range(UNROLL):
            states = step([i[k] for i in inputs], states)
            walked = [w.write(n * UNROLL + k, s)
                      for w, s in zip(walked, states)]
        return n + 1, walked, states

    _, walked, _ = tf.while_loop(lambda n, *_: n < padded // UNROLL, body,
                                 (tf.constant(0), walked, list(states)))
    return [w.stack() for w in walked]


def _last_steps(walked, lengths, initial):
    """Each row's state after its last step: row b of walked [T', B, W] at
    step lengths[b] - 1 (initial [B, W] where the row is empty)."""
    rows = tf.range(tf.shape(lengths)[0])
    last = tf.gather_nd(walked, tf.stack([tf.maximum(lengths - 1, 0), rows],
                                         1))
    return tf.where(lengths[:, None] > 0, last, initial)


def _sequence(x, per_step, states, lengths, reverse, prepare_x, step):
    """Runs a cell over x [B, T, I] with the ops' length and direction
    semantics. prepare_x makes x's part of UNROLL steps (see _walk);
    per_step are [B, T, ...] tensors step t also reads (zoneout); states
    are [B, width], the output's first. step(inputs, states) -> new
    states. Returns (outputs [B, T, width], *final states [B, width])."""
    time = tf.shape(x)[1]
    if reverse:
        x, *per_step = [tf.reverse_sequence(t, lengths, 1, 0)
                        for t in [x] + per_step]
    walked = _walk([(x, prepare_x)] + [(t, _time_major) for t in per_step],
                   states, _padded_steps(time), step)
    final = [_last_steps(w, lengths, s) for w, s in zip(walked, states)]
    outputs = tf.transpose(walked[0][:time], [1, 0, 2])
    ran = tf.sequence_mask(lengths, time)[..., None]
    outputs = tf.where(ran, outputs, tf.zeros_like(outputs))
    if reverse:
        outputs = tf.reverse_sequence(outputs, lengths, 1, 0)
    return (outputs, *final)


def _checked_mask(x, recurrent_mask, h0):
    """(x with the recurrent mask's shape check attached, the mask or
    None): checked once, not every step as the reference does."""
    mask = reference.option(recurrent_mask)
    with tf.control_dependencies(reference.check_recurrent_mask(mask, h0)):
        return tf.identity(x), mask


def _column_blocks(matrix, columns):
    """matrix[:, start:stop] for each block (sliced once, outside the
    loop)."""
    return [matrix[:, start:stop] for start, stop in columns]


def _at_step(zoneout, per_step):
    """A zoneout's value for this step: a scalar (or None) as it is, else
    the next of the step's per-step inputs."""
    if zoneout is None or zoneout.shape.rank == 0:
        return zoneout
    return next(per_step)


def _lstm_layer_norms(ln, columns, epsilon):
    """(x side, h side) per column block, and c's, as the reference's
    layer_norm: each block holds two whole gates (None when off)."""
    if ln is None:
        return None, None, None
    gain_x, gain_h, gain_c, shift_c = ln

    def per_block(gain):
        return [lambda z, g=gain[start:stop]: reference.layer_norm(
            z, g, groups=2, epsilon=epsilon) for start, stop in columns]
    return (per_block(gain_x), per_block(gain_h),
            lambda c: reference.layer_norm(c, gain_c, shift_c,
                                           epsilon=epsilon))


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
    x, mask = _checked_mask(x, recurrent_mask, h0)
    units = tf.shape(c0)[-1]
    columns = [(0, 2 * units), (2 * units, 4 * units)]  # [i f], [c o]
    norm_x, norm_h, norm_c = _lstm_layer_norms(ln, columns,
                                               layer_norm_epsilon)
    u_if, u_co = _column_blocks(recurrent_kernel, columns)

    def step(inputs, states):
        x_if, x_co, *rest = inputs
        per_step = iter(rest)
        h, c = states
        held = h if mask is None else h * mask
        z_if, z_co = tf.matmul(held, u_if), tf.matmul(held, u_co)
        if norm_h is not None:
            z_if, z_co = norm_h[0](z_if), norm_h[1](z_co)
        z_if, z_co = x_if + z_if, x_co + z_co
        if peephole is None:
            i, f = tf.split(tf.sigmoid(z_if), 2, axis=1)
        else:
            z_i, z_f = tf.split(z_if, 2, axis=1)
            i = tf.sigmoid(z_i + peephole[0] * c)
            f = tf.sigmoid(z_f + peephole[1] * c)
        z_c, z_o = tf.split(z_co, 2, axis=1)
        c_new = f * c + i * tf.tanh(z_c)
        if cell_clip >= 0:
            c_new = tf.clip_by_value(c_new, -cell_clip, cell_clip)
        if peephole is not None:
            z_o = z_o + peephole[2] * c_new
        h_new = tf.sigmoid(z_o) * tf.tanh(
            c_new if norm_c is None else norm_c(c_new))
        if projection is not None:
            h_new = tf.matmul(h_new, projection)
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
                     _input_products(kernel, bias, columns, norm_x), step)


def gru_sequence(x, h0, kernel, recurrent_kernel, bias, sequence_length,
                 reverse=False, recurrent_mask=None):
    """reference.gru_sequence's contract and numbers (reset_after=True;
    bias [2, 3H]), in fewer and parallel ops."""
    x = reference.checked(x, [("h0", h0)], kernel, recurrent_kernel, bias,
                          sequence_length, gates=3, bias_rows=2)
    x, mask = _checked_mask(x, recurrent_mask, h0)
    units = tf.shape(h0)[-1]
    columns = [(0, 2 * units), (2 * units, 3 * units)]  # [z r], [n]
    # z and r take both biases as a sum; n's recurrent bias is inside r * ..
    input_bias = tf.concat([bias[0, :2 * units] + bias[1, :2 * units],
                            bias[0, 2 * units:]], 0)
    u_zr, u_n = _column_blocks(recurrent_kernel, columns)
    recurrent_bias_n = bias[1, 2 * units:]

    def step(inputs, states):
        x_zr, x_n = inputs
        h = states[0]
        held = h if mask is None else h * mask
        z, r = tf.split(tf.sigmoid(x_zr + tf.matmul(held, u_zr)), 2, axis=1)
        n = tf.tanh(x_n + r * (tf.matmul(held, u_n) + recurrent_bias_n))
        return [z * h + (1 - z) * n]

    return _sequence(x, [], [h0], sequence_length, reverse,
                     _input_products(kernel, input_bias, columns), step)


def rnn_sequence(x, h0, kernel, recurrent_kernel, bias, sequence_length,
                 reverse=False, nonlinearity="tanh", recurrent_mask=None):
    """reference.rnn_sequence's contract and numbers, in fewer ops."""
    activation = reference.rnn_activation(nonlinearity)
    x = reference.checked(x, [("h0", h0)], kernel, recurrent_kernel, bias,
                          sequence_length, gates=1)
    x, mask = _checked_mask(x, recurrent_mask, h0)

    def step(inputs, states):
        h = states[0] if mask is None else states[0] * mask
        return [activation(inputs[0] + tf.matmul(h, recurrent_kernel))]

    return _sequence(x, [], [h0], sequence_length, reverse,
                     _input_products(kernel, bias, [(0, tf.shape(h0)[-1])]),
                     step)
