"""Python entry points of the fused LSTM op and their registered gradients.

`lstm_sequence` and `lstm_step` run the compiled op when it is available and
the pure-TF reference (same contract, same numbers) otherwise. float16 and
bfloat16 inputs compute in float32.
"""

import tensorflow as tf

from tfrnn.cells import CELLS

from tfrnn.ops.inputs import (as_float_tensors, cell_clip_or_none,
                              epsilon_or_error, invalid_argument,
                              lengths_or_full, mask_or_empty, zoneout_or_empty)
from tfrnn.ops.gradients import register_gradients
from tfrnn.ops.loader import active_ops, stock_ops


def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias,
                  sequence_length=None, reverse=False, training=True,
                  return_cell_sequence=False, recurrent_mask=None,
                  peephole=None, zoneout_h=None, zoneout_c=None,
                  cell_clip=None, layer_norm=None, layer_norm_epsilon=1e-3,
                  projection=None):
    """Whole-sequence LSTM: returns (output [B,T,H], h_n [B,H], c_n [B,H]).

    x [B,T,I]; h0, c0 [B,H]; kernel [I,4H], recurrent_kernel [H,4H] and
    bias [4H] as Keras stores them (gate order i, f, c, o). Row b runs steps
    0..sequence_length[b]-1 (all T when None), backwards when `reverse`
    (tf.reverse_sequence semantics). Outputs of steps that do not run are 0;
    h_n/c_n are the state after each row's last step. `training=False` keeps
    no activations for the backward pass (gradients still work: the forward
    is recomputed). `return_cell_sequence=True` adds the cell state of every
    step [B,T,H] (0 where a row has ended), for analysis: no gradient flows
    through it. `recurrent_mask` [B,H] multiplies h_{t-1} where it enters
    h.U, the same mask at every step (variational recurrent dropout: pass
    a dropout mask, already scaled by 1/keep); it gets no gradient.

    Options, each off when None (formulas: custom_ops/cells/lstm/lstm_cell.h):
    `peephole` [3,H] the weights p_i, p_f, p_o (BlockLSTM's); `zoneout_h`,
    `zoneout_c` the share of h_{t-1} / c_{t-1} each unit keeps, a number or
    [B,T,H] in [0, 1] (a training mask of 0s and 1s, or inference's
    expectation; no gradient), indexed by time step; `cell_clip` > 0 clips
    c_t to [-cell_clip, cell_clip]. Outputs are the carried h_t, after
    zoneout. `layer_norm` = (gain_x [4H], gain_h [4H], gain_c [H],
    shift_c [H]): each gate's x.W and h.U normalised over its units (times
    its gain; then + bias) and tanh reading LN(c_t) * gain_c + shift_c
    (Ba et al. 2016), with `layer_norm_epsilon` added to the variances.
    `projection` [H,P] (LSTMP, torch's proj_size): h_t = (o * tanh(..)) .
    projection, so h0, the outputs, h_n, recurrent_mask and zoneout_h are
    P wide and recurrent_kernel is [P,4H] (c stays H wide).
    """
    dtype, tensors, (peephole, ln, projection) = _float_inputs(
        peephole, layer_norm, projection, x=x, h0=h0, c0=c0, kernel=kernel,
        recurrent_kernel=recurrent_kernel, bias=bias)
    x, h0, c0, kernel, recurrent_kernel, bias = tensors
    lengths = lengths_or_full(sequence_length, x)
    mask = mask_or_empty(recurrent_mask, x.dtype)
    zoneout, clip = _options(x.dtype, zoneout_h, zoneout_c, cell_clip)
    epsilon = epsilon_or_error(layer_norm_epsilon)
    ops = active_ops()
    if ops is None:
        result = stock_ops().lstm_sequence(
            x, h0, c0, kernel, recurrent_kernel, bias, lengths,
            reverse=reverse, return_cell_sequence=return_cell_sequence,
            recurrent_mask=mask, peephole=peephole, zoneout_h=zoneout[0],
            zoneout_c=zoneout[1], cell_clip=clip, layer_norm_weights=ln,
            layer_norm_epsilon=epsilon, projection=projection)
    else:
        output, h_n, c_n, _, cells = ops.tfrnn_lstm(
            x, h0, c0, kernel, recurrent_kernel, bias, lengths, mask,
            *_option_inputs(x.dtype, peephole, zoneout, ln, projection),
            reverse=reverse,
            cell_clip=clip, layer_norm_epsilon=epsilon,
            is_training=bool(training) or return_cell_sequence)
        result = (output, h_n, c_n)
        if return_cell_sequence:
            # The op's saved cell states are unset where a row has ended.
            ran = tf.sequence_mask(lengths, tf.shape(x)[1])[..., None]
            result += (tf.where(ran, cells, tf.zeros_like(cells)),)
    if return_cell_sequence:
        result = result[:3] + (tf.stop_gradient(result[3]),)
    return tuple(tf.cast(t, dtype) for t in result)


def lstm_step(x, h, c, kernel, recurrent_kernel, bias, peephole=None,
              zoneout_h=None, zoneout_c=None, cell_clip=None,
              layer_norm=None, layer_norm_epsilon=1e-3, projection=None):
    """One LSTM step for decoding: x [B,I], h, c [B,H] -> (h_new, c_new),
    with lstm_sequence's options (a per-step zoneout is [B,H] here; under
    a projection h is [B,P])."""
    dtype, tensors, (peephole, ln, projection) = _float_inputs(
        peephole, layer_norm, projection, x=x, h=h, c=c, kernel=kernel,
        recurrent_kernel=recurrent_kernel, bias=bias)
    x, h, c, kernel, recurrent_kernel, bias = tensors
    zoneout, clip = _options(x.dtype, zoneout_h, zoneout_c, cell_clip)
    epsilon = epsilon_or_error(layer_norm_epsilon)
    ops = active_ops()
    if ops is None:
        result = stock_ops().lstm_step(
            x, h, c, kernel, recurrent_kernel, bias, peephole=peephole,
            zoneout_h=zoneout[0], zoneout_c=zoneout[1], cell_clip=clip,
            layer_norm_weights=ln, layer_norm_epsilon=epsilon,
            projection=projection)
    else:
        # The op takes a per-step zoneout as the sequence op's [B,T=1,H].
        steps = [z[:, None] if z.shape.rank == 2 else z for z in zoneout]
        result = ops.tfrnn_lstm_step(
            x, h, c, kernel, recurrent_kernel, bias,
            *_option_inputs(x.dtype, peephole, steps, ln, projection),
            cell_clip=clip,
            layer_norm_epsilon=epsilon)[:2]
    return tuple(tf.cast(t, dtype) for t in result)


_LAYER_NORM = ("gain_x", "gain_h", "gain_c", "shift_c")
# The LSTM ops' option inputs after their own, in order, and whether each
# gets a gradient (the Grad op's "d" + name outputs, after dbias): the list
# of custom_ops/cells/lstm/lstm_options.h, held to the op library by
# tests/ops/test_lstm_option_seam.py.
LSTM_OPTIONS = (("peephole", True), ("zoneout_h", False),
                ("zoneout_c", False), ("gain_x", True), ("gain_h", True),
                ("gain_c", True), ("shift_c", True),
                ("projection_kernel", True))


def _float_inputs(peephole, layer_norm, projection, **named):
    """as_float_tensors of the named inputs, the peephole, the layer norm's
    four and the projection (when given): (dtype, [named tensors],
    (peephole or None, layer norm tuple or None, projection or None))."""
    if layer_norm is not None:
        if not isinstance(layer_norm, (tuple, list)) or len(layer_norm) != 4:
            raise invalid_argument(
                "layer_norm must be (gain_x, gain_h, gain_c, shift_c) or "
                f"None, got {type(layer_norm).__name__}")
        named.update(zip(_LAYER_NORM, layer_norm))
    if peephole is not None:
        named["peephole"] = peephole
    if projection is not None:
        named["projection"] = projection
    dtype, tensors = as_float_tensors(**named)
    projection = tensors.pop() if projection is not None else None
    peephole = tensors.pop() if peephole is not None else None
    ln = None
    if layer_norm is not None:
        ln, tensors = tuple(tensors[-4:]), tensors[:-4]
    return dtype, tensors, (peephole, ln, projection)


def _option_inputs(dtype, peephole, zoneout, ln, projection):
    """The ops' option inputs in LSTM_OPTIONS's order, [0] where off;
    zoneout: [zoneout_h, zoneout_c] as the op takes them."""
    given = dict(peephole=peephole, zoneout_h=zoneout[0],
                 zoneout_c=zoneout[1], projection_kernel=projection)
    given.update(zip(_LAYER_NORM, ln or ()))
    return [_or_empty(given.get(name), dtype) for name, _ in LSTM_OPTIONS]


def _options(dtype, zoneout_h, zoneout_c, cell_clip):
    """([zoneout_h, zoneout_c] as the op takes them, the cell_clip attr)."""
    zoneout = [zoneout_or_empty(z, name, dtype) for z, name in
               ((zoneout_h, "zoneout_h"), (zoneout_c, "zoneout_c"))]
    return zoneout, cell_clip_or_none(cell_clip)


def _or_empty(option, dtype):
    """An optional input as the op takes it: itself, or [0] for none."""
    return tf.zeros([0], dtype) if option is None else option


register_gradients(CELLS["lstm"], LSTM_OPTIONS)
