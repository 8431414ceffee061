"""The fused recurrent ops: Python wrappers, gradients, loader, reference."""

from tfrnn.ops import reference
from tfrnn.ops.gru import gru_sequence, gru_step
from tfrnn.ops.loader import custom_ops_available
from tfrnn.ops.lowering import stock_ops_only
from tfrnn.ops.lstm import lstm_sequence, lstm_step
from tfrnn.ops.rnn import rnn_sequence, rnn_step

__all__ = ["custom_ops_available", "gru_sequence", "gru_step",
           "lstm_sequence", "lstm_step", "reference", "rnn_sequence",
           "rnn_step", "stock_ops_only"]
