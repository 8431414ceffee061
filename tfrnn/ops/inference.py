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


def _time_major(t, padded):
    """[B, T, ...] -> [T', ..., B], zero-padded to `padded` steps."""
    pad = [[0, 0], [0, padded - tf.shape(t)[1]]] + [[0, 0]] * (t.shape.rank
                                                              - 2)
    t = tf.pad(t, pad)
    return tf.transpose(t, [1] + list(range(2, t.shape.rank)) + [0])


def _walk(sequences, states, lengths, padded, step):
    """Runs step(inputs, states) -> (output, new_states) over the padded
    steps; `sequences` are [T', ..., B] (step t gets each one's [t]).
    Each row's states stop changing after its last step. Returns the
    outputs [T', width, B] (unmasked) and the final states."""
    chunks = padded // UNROLL
    chunked = [tf.reshape(s, tf.concat([[chunks, UNROLL], tf.shape(s)[1:]],
                                       0)) for s in sequences]
    runs = tf.reshape(tf.transpose(tf.sequence_mask(lengths, padded)),
                      [chunks, UNROLL, 1, -1])
    outputs = tf.TensorArray(states[0].dtype, size=padded,
                             element_shape=states[0].shape)

    def body(n, outputs, *states):
        inputs = [tf.unstack(s[n], UNROLL) for s in chunked]
        ran = tf.unstack(runs[n], UNROLL)
        for k in range(UNROLL):
            output, new = step([i[k] for i in inputs], states)
            outputs = outputs.write(n * UNROLL + k, output)
            states = [tf.where(ran[k], a, b) for a, b in zip(new, states)]
        return (n + 1, outputs, *states)

    _, outputs, *final = tf.while_loop(
        lambda n, *_: n < chunks, body, (tf.constant(0), outputs, *states))
    return outputs.stack(), final


def _sequence(x, per_step, states, lengths, reverse, blocks_of, step):
    """Runs a cell over x [B, T, I] with the ops' length and direction
    semantics. blocks_of(x, padded) gives the [T', rows, B] input blocks;
    per_step are [B, T, ...] tensors step t also reads (zoneout); states
    are [B, width] (unit-major inside). Returns (outputs [B, T, width],
    *final states [B, width])."""
    time = tf.shape(x)[1]
    if reverse:
        x, *per_step = [tf.reverse_sequence(t, lengths, 1, 0)
                        for t in [x] + per_step]
    padded = _padded_steps(time)
    sequences = blocks_of(x, padded) + [_time_major(t, padded)
                                        for t in per_step]
    outputs, final = _walk(sequences, [tf.transpose(s) for s in states],
                           lengths, padded, step)
    outputs = tf.transpose(outputs[:time], [2, 0, 1])
    ran = tf.sequence_mask(lengths, time)[..., None]
    outputs = tf.where(ran, outputs, tf.zeros_like(outputs))
    if reverse:
        outputs = tf.reverse_sequence(outputs, lengths, 1, 0)
    return (outputs, *[tf.transpose(s) for s in final])


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


def _input_blocks(kernel, columns, biases, norms=None):
    """blocks_of for _sequence: x.W for every step, one [T', rows, B]
    tensor per gate-column range of kernel [I, gates*H], then each
    block's norm (the LSTM's layer norm, or None), then its bias."""
    def blocks_of(x, padded):
        x_t = _time_major(x, padded)  # [T', I, B]
        blocks = []
        for k, ((start, stop), bias) in enumerate(zip(columns, biases)):
            block = tf.matmul(tf.transpose(kernel[:, start:stop]), x_t)
            if norms is not None:
                block = norms[k](block)
            blocks.append(block + bias[:, None])
        return blocks
    return blocks_of


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
        norm_x, norm_h = [[
            lambda z, g=g[start:stop]: _units_layer_norm(
                z, g, 2, layer_norm_epsilon)
            for start, stop in columns] for g in (gain_x, gain_h)]
        norm_c = lambda c: _units_layer_norm(  # noqa: E731
            c, gain_c, 1, layer_norm_epsilon, shift_c)
    u_if, u_co = _rows(recurrent_kernel, columns)
    mask_t = None if mask is None else tf.transpose(mask)
    peep = None if peephole is None else peephole[:, :, None]  # [3, H, 1]
    projection_t = None if projection is None else tf.transpose(projection)

    def step(inputs, states):
        x_if, x_co, *rest = inputs
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
        return h_new, (h_new, c_new)

    per_step = [z for z in (zoneout_h, zoneout_c)
                if z is not None and z.shape.rank != 0]
    return _sequence(x, per_step, [h0, c0], sequence_length, reverse,
                     _input_blocks(kernel, columns, [bias[:2 * units],
                                                     bias[2 * units:]],
                                   norm_x), step)


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
    biases = [bias[0, :2 * units] + bias[1, :2 * units], bias[0, 2 * units:]]
    u_zr, u_n = _rows(recurrent_kernel, columns)
    recurrent_bias_n = bias[1, 2 * units:][:, None]
    mask_t = None if mask is None else tf.transpose(mask)

    def step(inputs, states):
        x_zr, x_n = inputs
        h = states[0]
        held = h if mask_t is None else h * mask_t
        z, r = tf.split(tf.sigmoid(x_zr + tf.matmul(u_zr, held)), 2)
        n = tf.tanh(x_n + r * (tf.matmul(u_n, held) + recurrent_bias_n))
        h_new = z * h + (1 - z) * n
        return h_new, (h_new,)

    return _sequence(x, [], [h0], sequence_length, reverse,
                     _input_blocks(kernel, columns, biases), step)


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
        return h_new, (h_new,)

    return _sequence(x, [], [h0], sequence_length, reverse,
                     _input_blocks(kernel, columns, [bias]), step)
