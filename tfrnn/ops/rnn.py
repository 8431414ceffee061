"""Python entry points of the fused Elman RNN op and their registered
gradients.

h_t = nonlinearity(x.W + b + h_{t-1}.U), nonlinearity "tanh" or "relu", as
keras.layers.SimpleRNN (kernel [I,H], recurrent_kernel [H,H], bias [H]) and
torch.nn.RNN (whose b_ih + b_hh add into b). Same sequence_length / reverse
semantics as `lstm_sequence`; the pure-TF reference runs when the library is
unavailable.
"""

import tensorflow as tf

from tfrnn.cells import CELLS

from tfrnn.ops.inputs import (as_float_tensors, check_nonlinearity,
                              lengths_or_full, mask_or_empty)
from tfrnn.ops.gradients import register_gradients
from tfrnn.ops.loader import active_ops, stock_ops


def rnn_sequence(x, h0, kernel, recurrent_kernel, bias, sequence_length=None,
                 reverse=False, training=True, nonlinearity="tanh",
                 recurrent_mask=None):
    """Whole-sequence Elman RNN: returns (output [B,T,H], h_n [B,H]).

    x [B,T,I], h0 [B,H], kernel [I,H], recurrent_kernel [H,H], bias [H].
    Row b runs steps 0..sequence_length[b]-1 (all T when None), backwards
    when `reverse`; outputs of steps that do not run are 0. recurrent_mask
    [B,H] multiplies h_{t-1} where it enters h.U, the same at every step
    (variational recurrent dropout); it gets no gradient. `training` is
    accepted as the other cells' ops take it: this op saves nothing for its
    gradient but the outputs, in either mode.

    >>> import numpy as np
    >>> x = np.ones((2, 3, 4), np.float32)
    >>> h0 = np.zeros((2, 5), np.float32)
    >>> out, h_n = rnn_sequence(x, h0, np.full((4, 5), 0.1, np.float32),
    ...                         np.eye(5, dtype=np.float32),
    ...                         np.zeros(5, np.float32), nonlinearity="relu")
    >>> out.shape, round(float(h_n[0, 0]), 4)
    (TensorShape([2, 3, 5]), 1.2)
    """
    del training  # the same op either way
    check_nonlinearity(nonlinearity)
    dtype, (x, h0, kernel, recurrent_kernel, bias) = as_float_tensors(
        x=x, h0=h0, kernel=kernel, recurrent_kernel=recurrent_kernel,
        bias=bias)
    lengths = lengths_or_full(sequence_length, x)
    mask = mask_or_empty(recurrent_mask, x.dtype)
    ops = active_ops()
    if ops is None:
        result = stock_ops().rnn_sequence(
            x, h0, kernel, recurrent_kernel, bias, lengths, reverse=reverse,
            nonlinearity=nonlinearity, recurrent_mask=mask)
    else:
        result = ops.tfrnn_rnn(x, h0, kernel, recurrent_kernel, bias, lengths,
                               mask, reverse=reverse,
                               nonlinearity=nonlinearity)
    return tuple(tf.cast(t, dtype) for t in result)


def rnn_step(x, h, kernel, recurrent_kernel, bias, nonlinearity="tanh"):
    """One Elman RNN step for decoding: x [B,I], h [B,H] -> h_new."""
    check_nonlinearity(nonlinearity)
    dtype, (x, h, kernel, recurrent_kernel, bias) = as_float_tensors(
        x=x, h=h, kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias)
    ops = active_ops()
    if ops is None:
        h_new = stock_ops().rnn_step(x, h, kernel, recurrent_kernel, bias,
                                   nonlinearity=nonlinearity)
    else:
        h_new = ops.tfrnn_rnn_step(x, h, kernel, recurrent_kernel, bias,
                                   nonlinearity=nonlinearity)
    return tf.cast(h_new, dtype)


register_gradients(CELLS["rnn"])
