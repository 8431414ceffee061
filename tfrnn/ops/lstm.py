"""Python entry points of the fused LSTM op and their registered gradients.

`lstm_sequence` and `lstm_step` run the compiled op when it is available and
the pure-TF reference (same contract, same numbers) otherwise. float16 and
bfloat16 inputs compute in float32.
"""

import tensorflow as tf

from tfrnn.ops.inputs import (as_float_tensors, cell_clip_or_none,
                              epsilon_or_error, invalid_argument,
                              lengths_or_full, mask_or_empty, zeros_if_none,
                              zoneout_or_empty)
from tfrnn.ops.loader import active_ops, library, stock_ops


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
            _or_empty(peephole, x.dtype), *zoneout,
            *_layer_norm_inputs(ln, x.dtype),
            _or_empty(projection, x.dtype), reverse=reverse,
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
            _or_empty(peephole, x.dtype), *steps,
            *_layer_norm_inputs(ln, x.dtype),
            _or_empty(projection, x.dtype), cell_clip=clip,
            layer_norm_epsilon=epsilon)[:2]
    return tuple(tf.cast(t, dtype) for t in result)


_LAYER_NORM = ("gain_x", "gain_h", "gain_c", "shift_c")


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


def _layer_norm_inputs(ln, dtype):
    """The op's four layer-norm inputs: the weights, or four [0] "none"."""
    return ln if ln is not None else [_or_empty(None, dtype)] * 4


def _options(dtype, zoneout_h, zoneout_c, cell_clip):
    """([zoneout_h, zoneout_c] as the op takes them, the cell_clip attr)."""
    zoneout = [zoneout_or_empty(z, name, dtype) for z, name in
               ((zoneout_h, "zoneout_h"), (zoneout_c, "zoneout_c"))]
    return zoneout, cell_clip_or_none(cell_clip)


def _or_empty(option, dtype):
    """An optional input as the op takes it: itself, or [0] for none."""
    return tf.zeros([0], dtype) if option is None else option


@tf.RegisterGradient("TfrnnLstm")
def _lstm_grad(op, d_output, d_h_n, d_c_n, *unused_reserve_grads):
    """Gradient of TfrnnLstm through TfrnnLstmGrad.

    An inference-mode forward kept no activations: run it again in training
    mode to get them (correct, at the cost of one more forward).
    """
    # options: peephole, zoneout_h/c, the layer norm's four, the projection
    (x, h0, c0, kernel, recurrent_kernel, bias, lengths, mask,
     *options) = op.inputs
    attrs = dict(reverse=op.get_attr("reverse"),
                 cell_clip=op.get_attr("cell_clip"),
                 layer_norm_epsilon=op.get_attr("layer_norm_epsilon"))
    output, h_n, c_n, gates, cell = op.outputs
    if not op.get_attr("is_training"):
        output, _, _, gates, cell = library.ops.tfrnn_lstm(
            x, h0, c0, kernel, recurrent_kernel, bias, lengths, mask,
            *options, is_training=True, **attrs)
    *grads, dpeephole, dgain_x, dgain_h, dgain_c, dshift_c, dproj = \
        library.ops.tfrnn_lstm_grad(
            x, h0, c0, kernel, recurrent_kernel, lengths, output, gates,
            cell, zeros_if_none(d_output, output),
            zeros_if_none(d_h_n, h_n), zeros_if_none(d_c_n, c_n), mask,
            *options, **attrs)
    return grads + [None, None, dpeephole, None, None, dgain_x, dgain_h,
                    dgain_c, dshift_c, dproj]


@tf.RegisterGradient("TfrnnLstmStep")
def _lstm_step_grad(op, d_h_new, d_c_new, unused_d_gates):
    """Gradient of one step: the sequence gradient with T = 1."""
    x, h, c, kernel, recurrent_kernel, _, *options = op.inputs
    h_new, c_new, gates = op.outputs
    d_h_new = zeros_if_none(d_h_new, h_new)
    ones = tf.ones(tf.shape(x)[:1], tf.int32)
    # the layer norm's four, then the projection's
    dx, dh, dc, dkernel, drecurrent, dbias, dpeephole, *d_options = \
        library.ops.tfrnn_lstm_grad(
            x[:, None], h, c, kernel, recurrent_kernel, ones,
            h_new[:, None], gates[None], c_new[:, None],
            d_h_new[:, None], tf.zeros_like(d_h_new),
            zeros_if_none(d_c_new, c_new), tf.zeros([0], x.dtype),
            *options, cell_clip=op.get_attr("cell_clip"),
            layer_norm_epsilon=op.get_attr("layer_norm_epsilon"))
    return [dx[:, 0], dh, dc, dkernel, drecurrent, dbias, dpeephole, None,
            None, *d_options]
