"""Keras 3 SimpleRNN layer and cell (Elman RNN), tanh or relu.

`nonlinearity` is PyTorch's name for the activation ("tanh" or "relu"); the
weights and results are keras.layers.SimpleRNN's, and a torch.nn.RNN state
dict loads through `tfrnn.interop.from_torch(sd, "rnn_tanh"/"rnn_relu")`.
There is no fused op for it yet: every step runs Keras's loop. It shares the
LSTM/GRU options (time_major, trainable_initial_state).
"""

import keras

from tfrnn.layers.fused import FusedRNN, split_cell_kwargs

NONLINEARITIES = ("tanh", "relu")
_CELL_ARGS = (
    "use_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "seed")


def _nonlinearity(nonlinearity, kwargs):
    if "activation" in kwargs:
        raise ValueError("pass nonlinearity ('tanh' or 'relu'), not "
                         "activation")
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got "
                         f"{nonlinearity!r}")
    return nonlinearity


@keras.saving.register_keras_serializable(package="tfrnn")
class SimpleRNNCell(keras.layers.SimpleRNNCell):
    """`keras.layers.SimpleRNNCell` with nonlinearity "tanh" or "relu"."""

    def __init__(self, units, nonlinearity="tanh", **kwargs):
        super().__init__(units, activation=_nonlinearity(nonlinearity, kwargs),
                         **kwargs)
        self.nonlinearity = nonlinearity

    def get_config(self):
        config = super().get_config()
        del config["activation"]
        return {**config, "nonlinearity": self.nonlinearity}


@keras.saving.register_keras_serializable(package="tfrnn")
class SimpleRNN(FusedRNN, keras.layers.SimpleRNN):
    """Fully-connected RNN, h' = nonlinearity(x.W + h.U + b)."""

    def __init__(self, units, nonlinearity="tanh", **kwargs):
        cell = SimpleRNNCell(
            units, nonlinearity=_nonlinearity(nonlinearity, kwargs), name="simple_rnn_cell",
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            **split_cell_kwargs(kwargs, _CELL_ARGS))
        self._init_fused(cell, kwargs)

    @property
    def nonlinearity(self):
        return self.cell.nonlinearity

    def get_config(self):
        config = super().get_config()
        del config["activation"]
        config["nonlinearity"] = self.nonlinearity
        return self._fused_config(config)

    def _cell_fusable(self):
        return False  # no fused op: Keras's loop over the cell
