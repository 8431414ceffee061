"""What every fused-op recurrent layer shares: when to run the fused op,
masks, and Keras's output conventions.

A layer mixes `FusedRNN` into its Keras class (keras.layers.LSTM, GRU, ...)
and provides `_fused_op(sequences, initial_state, lengths, training,
recurrent_mask)` (training: the layer's flag, a bool or a tensor) returning
(output [B,T,H] aligned with the inputs and zero where a row has ended,
[final states]) and `_cell_fusable()`. The mixin overrides Keras's
`inner_loop`, the hook Keras itself uses for cuDNN, so `RNN.call` keeps
handling initial/stateful states, return options and config.
"""

import keras
import tensorflow as tf

from tfrnn.layers.call_inputs import (as_compute_dtype, check_state_count,
                                      checked_mask)


def has_op_activations(cell):
    """The ops compute sigmoid gates and tanh candidates/outputs."""
    return (cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid)


def step_fusable(cell, training):
    """Whether a cell's step can run the single-step op: default activations,
    and no per-gate dropout masks (Keras's implementation 1) while training.
    """
    if not has_op_activations(cell):
        return False
    return not (training and per_gate_masks(cell))


def per_gate_masks(cell):
    """Keras's implementation 1 with dropout: a mask per gate, which only
    Keras's step loop runs."""
    implementation = getattr(cell, "implementation", 2)  # SimpleRNN: none
    return implementation == 1 and (cell.dropout > 0
                                         or cell.recurrent_dropout > 0)


def keep_implementation(cell, implementation):
    """Undoes Keras's switch to implementation 1 (a dropout mask per gate)
    when recurrent_dropout is set: with implementation 2, tfrnn's cells use
    one recurrent mask on h_{t-1} shared by the gates (Gal & Ghahramani
    2016's tied variant), which the fused sequence ops run."""
    cell.implementation = implementation
    if implementation != 1:
        cell.dropout_mask_count = None


def dropout_masks(cell, inputs, h, training):
    """(input mask or None, recurrent mask or None) of a tfrnn cell in this
    call, drawn in Keras's order (input first) so every path of a layer
    gets the same masks from the same seed."""
    if not training or per_gate_masks(cell):
        return None, None
    dp = cell.get_dropout_mask(inputs) if 0 < cell.dropout < 1 else None
    rec = (cell.get_recurrent_dropout_mask(h)
           if 0 < cell.recurrent_dropout < 1 else None)
    return dp, rec


def bias_or_zeros(cell, shape):
    """The cell's bias, or zeros of the op's bias shape when use_bias=False."""
    if cell.use_bias:
        return cell.bias
    return tf.zeros(shape, cell.compute_dtype)


def mask_lengths(mask):
    """Per-row lengths [B] int32 of a [B,T] mask (its count of True)."""
    return tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)


def keeps_activations(training):
    """Save activations for backward unless known to be inference."""
    return True if tf.is_tensor(training) else bool(training)


class FusedRNN:
    """Mixin for keras.layers.RNN subclasses backed by a fused sequence op."""

    def _init_fused(self, cell, kwargs):
        """RNN.__init__ plus what every fused layer sets. Skips the Keras
        class's own __init__ (it would build a Keras cell).

        Options beyond Keras's: time_major (inputs/outputs [T,B,...]) and
        trainable_initial_state (a learned h0 (and c0) shared by every
        sequence, used when no initial_state is passed).
        """
        self.time_major = kwargs.pop("time_major", False)
        self.trainable_initial_state = kwargs.pop("trainable_initial_state",
                                                  False)
        keras.layers.RNN.__init__(self, cell, **kwargs)
        if self.time_major and self.stateful:
            raise ValueError("time_major and stateful cannot be combined "
                             "(a stateful layer needs a static batch first)")
        if self.trainable_initial_state and self.stateful:
            raise ValueError("trainable_initial_state and stateful cannot be "
                             "combined (a stateful layer carries its state)")
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.supports_jit = False  # XLA cannot compile a custom op
        # Keeps keras.layers.Bidirectional from routing this layer to Keras's
        # own fused cuDNN kernel instead of running it.
        self.use_cudnn = False

    def build(self, sequences_shape, initial_state_shape=None):
        if self.time_major:
            sequences_shape = _swap01(sequences_shape)
        super().build(sequences_shape, initial_state_shape)
        if self.trainable_initial_state:
            self.initial_states = [
                self.add_weight(shape=(size,), name=f"initial_{name}",
                                initializer="zeros")
                for size, name in zip(self.state_size, "hc")]

    def get_initial_state(self, batch_size):
        if not self.trainable_initial_state:
            return super().get_initial_state(batch_size)
        return [tf.broadcast_to(tf.cast(w, self.compute_dtype),
                                [batch_size, w.shape[0]])
                for w in self.initial_states]

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        if not self.time_major:
            return super().compute_output_shape(sequences_shape)
        shapes = super().compute_output_shape(_swap01(sequences_shape))
        if self.return_sequences:
            first = _swap01(shapes[0] if self.return_state else shapes)
            return (first, *shapes[1:]) if self.return_state else first
        return shapes

    def call(self, sequences, initial_state=None, mask=None, training=False):
        sequences = as_compute_dtype(sequences, self.compute_dtype)
        mask = checked_mask(mask, sequences, self.time_major)
        check_state_count(initial_state, self.state_size, self.name)
        if self.time_major:
            sequences = tf.transpose(sequences, [1, 0, 2])
            if mask is not None:
                mask = tf.transpose(mask)
        if sequences.shape[1] == 0:
            # Keras's RNN.call reads step 0 before the loop starts.
            raise ValueError(
                f"{self.name} got a sequence of 0 time steps; a Keras RNN "
                "layer needs at least 1 (the tfrnn.ops functions accept 0)")
        result = super().call(sequences, initial_state=initial_state,
                              mask=mask, training=training)
        if self.time_major and self.return_sequences:
            outputs = result[0] if self.return_state else result
            outputs = tf.transpose(outputs, [1, 0, 2])
            result = (outputs, *result[1:]) if self.return_state else outputs
        return result

    def _fused_config(self, config):
        config.update(time_major=self.time_major,
                      trainable_initial_state=self.trainable_initial_state)
        return config

    def _runs_fused_sequence(self, training):
        if self.unroll or not self._cell_fusable():
            return False
        return not (training and per_gate_masks(self.cell))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if tf.nest.is_nested(mask):
            mask = mask[0]
        if not self._runs_fused_sequence(training):
            return self._keras_loop(sequences, initial_state, mask, training)

        # One mask for every step (inputs as Keras's own fused cuDNN path;
        # h_{t-1} inside the op), drawn as the cell's step would draw them.
        dp_mask, rec_mask = dropout_masks(
            self.cell, sequences[:, 0, :], tf.nest.flatten(initial_state)[0],
            training)
        dropped = sequences
        if dp_mask is not None:
            dropped = sequences * dp_mask[:, None, :]
        if mask is not None:
            mask = tf.cast(mask, tf.bool)
        return self._fused(dropped, initial_state, mask, training, rec_mask)

    def _keras_loop(self, sequences, initial_state, mask, training):
        """Keras's step loop over the cell, outputs shaped as _fused's."""
        last, outputs, states = keras.layers.RNN.inner_loop(
            self, sequences, initial_state, mask=mask, training=training)
        if not self.return_sequences:
            outputs = last[:, None, :]
        return last, outputs, list(tf.nest.flatten(states))

    def _fused(self, sequences, initial_state, mask, training,
               recurrent_mask=None):
        """The whole sequence in one op, with Keras's mask semantics (a
        masked step keeps the state; its output is the one before it in the
        walk, or 0 with zero_output_for_mask) for any mask: each row's
        unmasked steps run packed to the front. Keras returns a backwards
        run in reversed order."""
        lengths = None
        if mask is not None:
            sequences, lengths = pack_unmasked(sequences, mask)
        output, states = self._fused_op(
            sequences, list(tf.nest.flatten(initial_state)), lengths,
            training, recurrent_mask)
        if mask is not None:
            output = unpack_outputs(output, mask, lengths, self.go_backwards,
                                    self.zero_output_for_mask)
        # The walk's last step: the final one, or the first backwards.
        last = output[:, 0] if self.go_backwards else output[:, -1]
        if self.go_backwards:
            output = tf.reverse(output, [1])
        if not self.return_sequences:
            output = last[:, None, :]
        return last, output, states


def pack_unmasked(sequences, mask):
    """(packed [B,T,...], lengths [B]): each row's unmasked steps moved to
    its front in their order, so any mask runs as per-row lengths."""
    order = tf.argsort(tf.cast(tf.logical_not(mask), tf.int32), axis=1,
                       stable=True)
    return tf.gather(sequences, order, batch_dims=1), mask_lengths(mask)


def unpack_outputs(packed, mask, lengths, backwards, zero_masked):
    """Every step's output [B,T,H] from a packed run's (its output j is
    that of the row's j-th unmasked step, in the walk's direction): an
    unmasked step's own; a masked step's the walk's previous output (0
    before the first), or 0 when zero_masked."""
    counts = tf.cumsum(tf.cast(mask, tf.int32), axis=1, exclusive=backwards)
    source = counts if backwards else counts - 1
    shown = mask if zero_masked else tf.logical_and(
        source >= 0, source < lengths[:, None])
    last_step = tf.maximum(tf.shape(mask)[1] - 1, 0)
    output = tf.gather(packed, tf.clip_by_value(source, 0, last_step),
                       batch_dims=1)
    return tf.where(shown[:, :, None], output, tf.zeros_like(output))


def _swap01(shape):
    shape = tuple(shape)
    return (shape[1], shape[0]) + shape[2:]


def split_cell_kwargs(kwargs, cell_args):
    """Pops the cell's arguments out of a layer's kwargs."""
    kwargs.pop("use_cudnn", None)  # accepted for Keras compatibility
    return {k: kwargs.pop(k) for k in cell_args if k in kwargs}
