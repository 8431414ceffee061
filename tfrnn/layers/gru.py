"""Keras 3 GRU layer and cell running on the fused GRU op.

`GRU` is `keras.layers.GRU` (reset_after=True, the Keras/cuDNN variant)
with its inner loop replaced by the fused whole-sequence op, like
`tfrnn.layers.LSTM`; weights and config are Keras's. reset_after=False,
other activations, recurrent dropout in training, `unroll` and masks that
are not right-padded run Keras's step loop over `GRUCell`.
"""

import keras
import tensorflow as tf

from tfrnn.layers.fused import (FusedRNN, bias_or_zeros,
                                has_op_activations, split_cell_kwargs,
                                step_fusable)
from tfrnn.ops import gru_sequence, gru_step

# Arguments of keras.layers.GRU that belong to its cell.
_CELL_ARGS = (
    "activation", "recurrent_activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "kernel_regularizer",
    "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
    "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
    "reset_after", "seed")


def _bias_or_zeros(cell):
    return bias_or_zeros(cell, [2, 3 * cell.units])


def _fusable(cell):
    return cell.reset_after and has_op_activations(cell)


@keras.saving.register_keras_serializable(package="tfrnn")
class GRUCell(keras.layers.GRUCell):
    """`keras.layers.GRUCell` whose step runs the fused single-step op
    (reset_after=True). Same arguments, weights and config as Keras's."""

    def call(self, inputs, states, training=False):
        if not (_fusable(self) and step_fusable(self, training)):
            return super().call(inputs, states, training=training)
        nested = tf.nest.is_nested(states)
        h = states[0] if nested else states
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        h = gru_step(inputs, h, self.kernel, self.recurrent_kernel,
                     _bias_or_zeros(self))
        return h, [h] if nested else h


@keras.saving.register_keras_serializable(package="tfrnn")
class GRU(FusedRNN, keras.layers.GRU):
    """Gated Recurrent Unit layer on the fused op (Cho et al. 2014).

    Takes the arguments of `keras.layers.GRU` and gives Keras's results for
    them; `use_cudnn` is accepted and ignored. Not XLA-compilable
    (`supports_jit = False`). Beyond Keras: `time_major`,
    `trainable_initial_state` (see FusedRNN).
    """

    def __init__(self, units, **kwargs):
        cell = GRUCell(
            units, name="gru_cell", dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            implementation=kwargs.pop("implementation", 2),
            **split_cell_kwargs(kwargs, _CELL_ARGS))
        self._init_fused(cell, kwargs)

    def get_config(self):
        return self._fused_config(super().get_config())

    def _cell_fusable(self):
        return _fusable(self.cell)

    def _fused_op(self, sequences, initial_state, lengths, training):
        output, h_n = gru_sequence(
            sequences, initial_state[0], self.cell.kernel,
            self.cell.recurrent_kernel, _bias_or_zeros(self.cell), lengths,
            reverse=self.go_backwards, training=training)
        return output, [h_n]
