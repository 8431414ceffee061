"""Keras 3 LSTM layer and cell running on the fused LSTM op.

`LSTM` is `keras.layers.LSTM` with its inner loop replaced by the fused
whole-sequence op, the same way Keras plugs in cuDNN: `RNN.call` still
handles initial and stateful states, return options and config, and the
weights (`kernel`, `recurrent_kernel`, `bias`) are Keras's, so weights and
`.keras` files move between the two. What the op cannot express (other
activations, recurrent dropout in training, `unroll`, masks that are not
right-padded) runs Keras's own step loop over `LSTMCell`, whose step is the
fused single-step op; results follow Keras in every case.
"""

import keras
import tensorflow as tf

from tfrnn.ops import lstm_sequence, lstm_step

# Arguments of keras.layers.LSTM that belong to its cell.
_CELL_ARGS = (
    "activation", "recurrent_activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "unit_forget_bias",
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
    "recurrent_dropout", "seed")


def _has_op_activations(cell):
    """The op computes sigmoid gates and a tanh candidate/output."""
    return (cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid)


def _bias_or_zeros(cell):
    if cell.use_bias:
        return cell.bias
    return tf.zeros([4 * cell.units], cell.compute_dtype)


def _keeps_activations(training):
    """Save activations for backward unless known to be inference."""
    return True if tf.is_tensor(training) else bool(training)


@keras.saving.register_keras_serializable(package="tfrnn")
class LSTMCell(keras.layers.LSTMCell):
    """`keras.layers.LSTMCell` whose step runs the fused single-step op.

    Same arguments, weights and config as Keras's cell. Usable in
    `keras.layers.RNN` and for step-by-step decoding.
    """

    def _runs_fused_step(self, training):
        if not _has_op_activations(self):
            return False
        if not training:
            return True
        # Keras's per-gate dropout masks (implementation 1) need its math.
        return self.recurrent_dropout == 0 and (
            self.implementation != 1 or self.dropout == 0)

    def call(self, inputs, states, training=False):
        if not self._runs_fused_step(training):
            return super().call(inputs, states, training=training)
        h, c = states
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        h, c = lstm_step(inputs, h, c, self.kernel, self.recurrent_kernel,
                         _bias_or_zeros(self))
        return h, [h, c]


@keras.saving.register_keras_serializable(package="tfrnn")
class LSTM(keras.layers.LSTM):
    """Long Short-Term Memory layer on the fused op (Hochreiter 1997).

    Takes the arguments of `keras.layers.LSTM` (units, activation,
    recurrent_activation, use_bias, initializers, regularizers, constraints,
    unit_forget_bias, dropout, recurrent_dropout, seed, return_sequences,
    return_state, go_backwards, stateful, unroll, zero_output_for_mask) and
    gives Keras's results for them. `use_cudnn` is accepted and ignored: the
    fused op serves every device it is built for. Not XLA-compilable
    (`supports_jit = False`).
    """

    def __init__(self, units, **kwargs):
        kwargs.pop("use_cudnn", None)
        cell_kwargs = {k: kwargs.pop(k) for k in _CELL_ARGS if k in kwargs}
        cell = LSTMCell(
            units, name="lstm_cell", dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            implementation=kwargs.pop("implementation", 2), **cell_kwargs)
        # Skip keras.layers.LSTM.__init__ (it builds a Keras cell); the rest
        # of keras.layers.LSTM (properties, config) applies unchanged.
        keras.layers.RNN.__init__(self, cell, **kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.supports_jit = False

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if sequences.shape[1] == 0:
            # Keras's RNN.call reads step 0 before the loop starts.
            raise ValueError(
                f"{self.name} got a sequence of 0 time steps; a Keras RNN "
                "layer needs at least 1 (tfrnn.ops.lstm_sequence accepts 0)")
        return super().call(sequences, initial_state=initial_state,
                            mask=mask, training=training)

    def _runs_fused_sequence(self, training):
        if self.unroll or not _has_op_activations(self.cell):
            return False
        return not (training and self.cell.recurrent_dropout > 0)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if tf.nest.is_nested(mask):
            mask = mask[0]
        if not self._runs_fused_sequence(training):
            return self._keras_loop(sequences, initial_state, mask, training)

        dropped = sequences
        if training and self.cell.dropout > 0:
            # One mask for every step, as Keras's own fused (cuDNN) path.
            dp_mask = self.cell.get_dropout_mask(sequences[:, 0, :])
            dropped = sequences * dp_mask[:, None, :]
        if mask is None:
            return self._fused(dropped, initial_state, None, training)

        mask = tf.cast(mask, tf.bool)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        right_padded = tf.reduce_all(
            tf.equal(mask, tf.sequence_mask(lengths, tf.shape(mask)[1])))

        def fused():
            return self._fused(dropped, initial_state, mask, training)

        def keras_loop():
            return self._keras_loop(sequences, initial_state, mask, training)

        if tf.executing_eagerly():
            return fused() if bool(right_padded) else keras_loop()
        return tf.cond(right_padded, fused, keras_loop)

    def _keras_loop(self, sequences, initial_state, mask, training):
        """Keras's step loop over LSTMCell, outputs shaped as _fused's."""
        last, outputs, states = keras.layers.RNN.inner_loop(
            self, sequences, initial_state, mask=mask, training=training)
        if not self.return_sequences:
            outputs = last[:, None, :]
        return last, outputs, list(states)

    def _fused(self, sequences, initial_state, mask, training):
        """The whole sequence in one op, with Keras's output conventions.

        The op's outputs are aligned with the inputs and zero where a row has
        ended; Keras returns a backwards run in reversed order and, unless
        zero_output_for_mask, repeats the last real output over padding.
        """
        h0, c0 = initial_state
        lengths = None
        if mask is not None:
            lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        output, h_n, c_n = lstm_sequence(
            sequences, h0, c0, self.cell.kernel, self.cell.recurrent_kernel,
            _bias_or_zeros(self.cell), lengths, reverse=self.go_backwards,
            training=_keeps_activations(training))
        last = h_n
        if lengths is not None:
            ran = (lengths > 0)[:, None]
            last = tf.where(ran, h_n, tf.zeros_like(h_n))
            if not self.go_backwards and self.zero_output_for_mask:
                full = (lengths == tf.shape(mask)[1])[:, None]
                last = tf.where(full, h_n, tf.zeros_like(h_n))
            elif not self.go_backwards and self.return_sequences:
                output = tf.where(mask[:, :, None], output, last[:, None, :])
        if self.go_backwards:
            output = tf.reverse(output, [1])
        if not self.return_sequences:
            output = last[:, None, :]
        return last, output, [h_n, c_n]
