"""Keras 3 recurrent layers (registered for `.keras` serialization)."""

from tfrnn.layers.gru import GRU, GRUCell
from tfrnn.layers.lstm import LSTM, ExtendedLSTMCell, LSTMCell
from tfrnn.layers.simple_rnn import SimpleRNN, SimpleRNNCell
from tfrnn.layers.stacked import StackedRNN

__all__ = ["ExtendedLSTMCell", "GRU", "GRUCell", "LSTM", "LSTMCell",
           "SimpleRNN", "SimpleRNNCell", "StackedRNN"]
