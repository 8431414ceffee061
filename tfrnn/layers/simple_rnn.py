"""Keras 3 SimpleRNN layer and cell (the Elman RNN) on the fused RNN op.

`SimpleRNN` is `keras.layers.SimpleRNN` with its inner loop replaced by the
fused whole-sequence op, with any mask (tanh or relu; any other activation
and `unroll` run Keras's step loop over the cell).
Weights, results and config are Keras's, so a keras.layers.SimpleRNN config
or `.keras` file loads. `nonlinearity` ("tanh" or "relu") is PyTorch's
spelling of the activation and is accepted too; a torch.nn.RNN state dict
loads through `tfrnn.interop.from_torch(sd, "rnn_tanh"/"rnn_relu")`.
recurrent_dropout is Keras's: one mask on h_{t-1} where it enters h.U, run
inside the fused op.
"""

import keras

from tfrnn.layers.fused import (FusedRNN, bias_or_zeros, dropout_masks,
                                split_cell_kwargs)
from tfrnn.ops import rnn_sequence, rnn_step
from tfrnn.ops.inputs import NONLINEARITIES, check_nonlinearity
_CELL_ARGS = (
    "use_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "seed")


def _activation(activation, nonlinearity):
    """The cell's activation from Keras's `activation` or torch's
    `nonlinearity` (which must then be "tanh" or "relu")."""
    if nonlinearity is None:
        return activation
    check_nonlinearity(nonlinearity, ValueError)
    if activation not in (None, "tanh", nonlinearity):
        raise ValueError(f"nonlinearity={nonlinearity!r} and "
                         f"activation={activation!r} disagree; pass one")
    return nonlinearity


def fused_nonlinearity(activation):
    """"tanh" or "relu" when the op can run `activation`, else None."""
    for name in NONLINEARITIES:
        if activation is keras.activations.get(name):
            return name
    return None


@keras.saving.register_keras_serializable(package="tfrnn")
class SimpleRNNCell(keras.layers.SimpleRNNCell):
    """`keras.layers.SimpleRNNCell` whose step runs the fused single-step op
    when its activation is tanh or relu. Same arguments, weights and config
    as Keras's, plus `nonlinearity` (torch's name for the activation).

    >>> cell = SimpleRNNCell(4, nonlinearity="relu")
    >>> cell.nonlinearity
    'relu'
    """

    def __init__(self, units, activation="tanh", nonlinearity=None,
                 **kwargs):
        super().__init__(units, activation=_activation(activation,
                                                       nonlinearity),
                         **kwargs)

    @property
    def nonlinearity(self):
        """"tanh" or "relu", or None for an activation the op cannot run."""
        return fused_nonlinearity(self.activation)

    def call(self, sequence, states, training=False):
        if self.nonlinearity is None:
            return super().call(sequence, states, training=training)
        nested = isinstance(states, (list, tuple))
        h = states[0] if nested else states
        dp_mask, rec_mask = dropout_masks(self, sequence, h, training)
        if dp_mask is not None:
            sequence = sequence * dp_mask
        if rec_mask is not None:
            h = h * rec_mask  # the product's h only: the state is replaced
        h = rnn_step(sequence, h, self.kernel, self.recurrent_kernel,
                     bias_or_zeros(self, [self.units]),
                     nonlinearity=self.nonlinearity)
        return h, [h] if nested else h


@keras.saving.register_keras_serializable(package="tfrnn")
class SimpleRNN(FusedRNN, keras.layers.SimpleRNN):
    """Fully-connected RNN, h' = activation(x.W + h.U + b), on the fused op.

    Takes the arguments of `keras.layers.SimpleRNN` (activation "tanh" or
    "relu" fused; others run Keras's loop) and gives Keras's results for
    them. Beyond Keras: `nonlinearity` (torch's spelling), `time_major`,
    `trainable_initial_state` (see FusedRNN). Not XLA-compilable.

    >>> import numpy as np
    >>> layer = SimpleRNN(8, activation="relu", return_sequences=True)
    >>> layer(np.zeros((2, 5, 3), "float32")).shape
    TensorShape([2, 5, 8])
    """

    def __init__(self, units, activation="tanh", nonlinearity=None,
                 **kwargs):
        cell = SimpleRNNCell(
            units, activation=activation, nonlinearity=nonlinearity,
            name="simple_rnn_cell", dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            **split_cell_kwargs(kwargs, _CELL_ARGS))
        self._init_fused(cell, kwargs)

    @property
    def nonlinearity(self):
        return self.cell.nonlinearity

    def get_config(self):
        return self._fused_config(super().get_config())

    def _cell_fusable(self):
        return self.cell.nonlinearity is not None

    def _fused_op(self, sequences, initial_state, lengths, training,
                  recurrent_mask):
        output, h_n = rnn_sequence(
            sequences, initial_state[0], self.cell.kernel,
            self.cell.recurrent_kernel,
            bias_or_zeros(self.cell, [self.cell.units]), lengths,
            reverse=self.go_backwards, nonlinearity=self.cell.nonlinearity,
            recurrent_mask=recurrent_mask)
        return output, [h_n]

