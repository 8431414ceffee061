"""Keras 3 recurrent layers (registered for `.keras` serialization)."""

from tfrnn.layers.lstm import LSTM, LSTMCell

__all__ = ["LSTM", "LSTMCell"]
