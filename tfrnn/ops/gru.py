"""Python entry points of the fused GRU op and their registered gradients.

Keras's GRU with reset_after=True (the cuDNN variant): kernel [I,3H],
recurrent_kernel [H,3H], bias [2,3H] (input bias, recurrent bias), gates
z, r, h. Same sequence_length / reverse / training semantics as
`lstm_sequence`; the pure-TF reference runs when the library is unavailable.
"""

import tensorflow as tf

from tfrnn.cells import CELLS

from tfrnn.ops.inputs import (as_float_tensors, lengths_or_full,
                              mask_or_empty)
from tfrnn.ops.gradients import register_gradients
from tfrnn.ops.loader import active_ops, stock_ops


def gru_sequence(x, h0, kernel, recurrent_kernel, bias, sequence_length=None,
                 reverse=False, training=True, recurrent_mask=None):
    """Whole-sequence GRU: returns (output [B,T,H], h_n [B,H]).

    recurrent_mask [B,H] multiplies h_{t-1} in h.U (not in the update
    z * h_{t-1}), the same at every step: variational recurrent dropout.
    """
    dtype, (x, h0, kernel, recurrent_kernel, bias) = as_float_tensors(
        x=x, h0=h0, kernel=kernel, recurrent_kernel=recurrent_kernel,
        bias=bias)
    lengths = lengths_or_full(sequence_length, x)
    mask = mask_or_empty(recurrent_mask, x.dtype)
    ops = active_ops()
    if ops is None:
        result = stock_ops().gru_sequence(
            x, h0, kernel, recurrent_kernel, bias, lengths, reverse=reverse,
            recurrent_mask=mask)
    else:
        result = ops.tfrnn_gru(x, h0, kernel, recurrent_kernel, bias, lengths,
                               mask, reverse=reverse,
                               is_training=bool(training))[:2]
    return tuple(tf.cast(t, dtype) for t in result)


def gru_step(x, h, kernel, recurrent_kernel, bias):
    """One GRU step for decoding: x [B,I], h [B,H] -> h_new."""
    dtype, (x, h, kernel, recurrent_kernel, bias) = as_float_tensors(
        x=x, h=h, kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias)
    ops = active_ops()
    if ops is None:
        h_new = stock_ops().gru_step(x, h, kernel, recurrent_kernel, bias)
    else:
        h_new = ops.tfrnn_gru_step(x, h, kernel, recurrent_kernel, bias)[0]
    return tf.cast(h_new, dtype)


register_gradients(CELLS["gru"])
