"""The fused LSTM op: Python wrappers, gradients, loader and reference."""

from tfrnn.ops import reference
from tfrnn.ops.loader import custom_ops_available
from tfrnn.ops.lstm import lstm_sequence, lstm_step

__all__ = ["custom_ops_available", "lstm_sequence", "lstm_step", "reference"]
