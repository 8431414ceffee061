"""Python entry points of the fused LSTM op and their registered gradients.

`lstm_sequence` and `lstm_step` run the compiled op when it is available and
the pure-TF reference (same contract, same numbers) otherwise. float16 and
bfloat16 inputs compute in float32.
"""

import tensorflow as tf

from tfrnn.ops import reference
from tfrnn.ops.loader import library

_OP_DTYPES = (tf.float32, tf.float64)
_CAST_DTYPES = (tf.float16, tf.bfloat16)


def _invalid(message):
    return tf.errors.InvalidArgumentError(None, None, message)


def _as_float_tensors(**named):
    """Converts the named float inputs; all must share x's dtype."""
    first_name = next(iter(named))
    tensors = {name: tf.convert_to_tensor(value) for name, value in named.items()}
    dtype = tensors[first_name].dtype
    if dtype not in _OP_DTYPES + _CAST_DTYPES:
        raise _invalid(f"{first_name} must be float16, bfloat16, float32 or "
                       f"float64, got {dtype.name}")
    for name, t in tensors.items():
        if t.dtype != dtype:
            raise _invalid(f"{name} must have the dtype of {first_name} "
                           f"({dtype.name}), got {t.dtype.name}")
    if dtype in _CAST_DTYPES:
        tensors = {n: tf.cast(t, tf.float32) for n, t in tensors.items()}
    return dtype, list(tensors.values())


def _lengths(sequence_length, x):
    """sequence_length as int32 [B]; None means every row runs all T steps."""
    time = tf.shape(x, out_type=tf.int32)[1]
    if sequence_length is None:
        return tf.fill(tf.shape(x, out_type=tf.int32)[:1], time)
    lengths = tf.convert_to_tensor(sequence_length)
    if lengths.dtype not in (tf.int32, tf.int64):
        raise _invalid("sequence_length must be int32 or int64, got "
                       f"{lengths.dtype.name}")
    if lengths.dtype == tf.int64:
        # Clip before narrowing so an out-of-range value stays out of range
        # (and is rejected) instead of wrapping into range.
        lengths = tf.cast(tf.clip_by_value(
            lengths, -1, tf.cast(time, tf.int64) + 1), tf.int32)
    return lengths


def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias,
                  sequence_length=None, reverse=False, training=True):
    """Whole-sequence LSTM: returns (output [B,T,H], h_n [B,H], c_n [B,H]).

    x [B,T,I]; h0, c0 [B,H]; kernel [I,4H], recurrent_kernel [H,4H] and
    bias [4H] as Keras stores them (gate order i, f, c, o). Row b runs steps
    0..sequence_length[b]-1 (all T when None), backwards when `reverse`
    (tf.reverse_sequence semantics). Outputs of steps that do not run are 0;
    h_n/c_n are the state after each row's last step. `training=False` keeps
    no activations for the backward pass (gradients still work: the forward
    is recomputed).
    """
    dtype, (x, h0, c0, kernel, recurrent_kernel, bias) = _as_float_tensors(
        x=x, h0=h0, c0=c0, kernel=kernel, recurrent_kernel=recurrent_kernel,
        bias=bias)
    lengths = _lengths(sequence_length, x)
    ops = library.ops
    if ops is None:
        result = reference.lstm_sequence(x, h0, c0, kernel, recurrent_kernel,
                                         bias, lengths, reverse=reverse)
    else:
        result = ops.tfrnn_lstm(x, h0, c0, kernel, recurrent_kernel, bias,
                                lengths, reverse=reverse,
                                is_training=bool(training))[:3]
    return tuple(tf.cast(t, dtype) for t in result)


def lstm_step(x, h, c, kernel, recurrent_kernel, bias):
    """One LSTM step for decoding: x [B,I], h, c [B,H] -> (h_new, c_new)."""
    dtype, (x, h, c, kernel, recurrent_kernel, bias) = _as_float_tensors(
        x=x, h=h, c=c, kernel=kernel, recurrent_kernel=recurrent_kernel,
        bias=bias)
    ops = library.ops
    if ops is None:
        result = reference.lstm_step(x, h, c, kernel, recurrent_kernel, bias)
    else:
        result = ops.tfrnn_lstm_step(x, h, c, kernel, recurrent_kernel,
                                     bias)[:2]
    return tuple(tf.cast(t, dtype) for t in result)


def _zeros_if_none(grad, like):
    return tf.zeros_like(like) if grad is None else grad


@tf.RegisterGradient("TfrnnLstm")
def _lstm_grad(op, d_output, d_h_n, d_c_n, *unused_reserve_grads):
    """Gradient of TfrnnLstm through TfrnnLstmGrad.

    An inference-mode forward kept no activations: run it again in training
    mode to get them (correct, at the cost of one more forward).
    """
    x, h0, c0, kernel, recurrent_kernel, bias, lengths = op.inputs
    reverse = op.get_attr("reverse")
    output, h_n, c_n, gates, cell = op.outputs
    if not op.get_attr("is_training"):
        output, _, _, gates, cell = library.ops.tfrnn_lstm(
            x, h0, c0, kernel, recurrent_kernel, bias, lengths,
            reverse=reverse, is_training=True)
    grads = library.ops.tfrnn_lstm_grad(
        x, h0, c0, kernel, recurrent_kernel, lengths, output, gates, cell,
        _zeros_if_none(d_output, output), _zeros_if_none(d_h_n, h_n),
        _zeros_if_none(d_c_n, c_n), reverse=reverse)
    return list(grads) + [None]


@tf.RegisterGradient("TfrnnLstmStep")
def _lstm_step_grad(op, d_h_new, d_c_new, unused_d_gates):
    """Gradient of one step: the sequence gradient with T = 1."""
    x, h, c, kernel, recurrent_kernel, _ = op.inputs
    h_new, c_new, gates = op.outputs
    d_h_new = _zeros_if_none(d_h_new, h_new)
    ones = tf.ones(tf.shape(x)[:1], tf.int32)
    dx, dh, dc, dkernel, drecurrent, dbias = library.ops.tfrnn_lstm_grad(
        x[:, None], h, c, kernel, recurrent_kernel, ones, h_new[:, None],
        gates[:, None], c_new[:, None], d_h_new[:, None],
        tf.zeros_like(d_h_new), _zeros_if_none(d_c_new, c_new))
    return [dx[:, 0], dh, dc, dkernel, drecurrent, dbias]
