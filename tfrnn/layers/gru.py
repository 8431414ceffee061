"""Keras 3 GRU layer and cell running on the fused GRU op.

`GRU` is `keras.layers.GRU` (reset_after=True, the Keras/cuDNN variant)
with its inner loop replaced by the fused whole-sequence op, like
`tfrnn.layers.LSTM`; weights and config are Keras's. reset_after=False,
other activations, per-gate dropout masks (implementation=1) and `unroll`
run Keras's step loop over `GRUCell`; any mask runs on the op.
recurrent_dropout is one mask on h_{t-1} in h.U, shared by the gates, run
inside the fused op (see GRUCell and tfrnn.layers.lstm).
"""

import keras
import tensorflow as tf

from tfrnn.layers.fused import (FusedRNN, bias_or_zeros, dropout_masks,
                                has_op_activations, keep_implementation,
                                keeps_activations, split_cell_kwargs,
                                step_fusable)
from tfrnn.ops import gru_sequence, gru_step, reference

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
    (reset_after=True). Same arguments, weights and config as Keras's.

    recurrent_dropout with implementation 2 (the default) is one mask on
    h_{t-1} where it enters h.U, shared by the gates (what the fused
    sequence op runs); implementation=1, reset_after=False or other
    activations keep Keras's per-gate masks.

    >>> import numpy as np
    >>> h, _ = GRUCell(4)(np.ones((2, 3), "float32"), np.zeros((2, 4), "f"))
    >>> h.shape
    TensorShape([2, 4])
    """

    def __init__(self, units, **kwargs):
        implementation = kwargs.get("implementation", 2)
        super().__init__(units, **kwargs)
        if _fusable(self):
            keep_implementation(self, implementation)

    def call(self, inputs, states, training=False):
        if not (_fusable(self) and step_fusable(self, training)):
            return super().call(inputs, states, training=training)
        nested = tf.nest.is_nested(states)
        h = states[0] if nested else states
        dp_mask, rec_mask = dropout_masks(self, inputs, h, training)
        if dp_mask is not None:
            inputs = inputs * dp_mask
        if rec_mask is None:
            h = gru_step(inputs, h, self.kernel, self.recurrent_kernel,
                         _bias_or_zeros(self))
        else:  # h is used masked in h.U and unmasked in the update
            h = reference.gru_step(inputs, h, self.kernel,
                                   self.recurrent_kernel,
                                   _bias_or_zeros(self),
                                   recurrent_mask=rec_mask)
        return h, [h] if nested else h


@keras.saving.register_keras_serializable(package="tfrnn")
class GRU(FusedRNN, keras.layers.GRU):
    """Gated Recurrent Unit layer on the fused op (Cho et al. 2014).

    Takes the arguments of `keras.layers.GRU` and gives Keras's results for
    them; `use_cudnn` is accepted and ignored. Not XLA-compilable
    (`supports_jit = False`). Beyond Keras: `time_major`,
    `trainable_initial_state` (see FusedRNN).

    >>> import numpy as np
    >>> layer = GRU(8)
    >>> layer(np.zeros((2, 5, 3), "float32")).shape
    TensorShape([2, 8])
    >>> [w.shape for w in layer.get_weights()]  # bias: input, recurrent
    [(3, 24), (8, 24), (2, 24)]
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

    def _fused_op(self, sequences, initial_state, lengths, training,
                  recurrent_mask):
        output, h_n = gru_sequence(
            sequences, initial_state[0], self.cell.kernel,
            self.cell.recurrent_kernel, _bias_or_zeros(self.cell), lengths,
            reverse=self.go_backwards, training=keeps_activations(training),
            recurrent_mask=recurrent_mask)
        return output, [h_n]
