"""Keras 3 LSTM layer and cell running on the fused LSTM op.

`LSTM` is `keras.layers.LSTM` with its inner loop replaced by the fused
whole-sequence op, the same way Keras plugs in cuDNN: `RNN.call` still
handles initial and stateful states, return options and config, and the
weights (`kernel`, `recurrent_kernel`, `bias`) are Keras's, so weights and
`.keras` files move between the two. Any mask runs on the op (left
padding and holes too: see tfrnn.layers.fused), and so do the options
peephole, cell_clip, zoneout, layer_norm and proj_size
(tfrnn.layers.lstm_options). What the op cannot express (other
activations, per-gate dropout masks (implementation=1), `unroll`) runs
Keras's own step loop over `LSTMCell`, whose step is the fused single-step
op (with the op's options) where it can be. Results follow
Keras in every case but one, on purpose: `recurrent_dropout` (variational,
Gal & Ghahramani 2016) is one mask on h_{t-1} shared by the four gates, the
same at every step, and runs inside the fused op; Keras instead draws a
mask per gate, which `implementation=1` reproduces (in Keras's step loop).
"""

import keras
import tensorflow as tf

from tfrnn.layers import lstm_options
from tfrnn.layers.fused import (FusedRNN, bias_or_zeros, dropout_masks,
                                has_op_activations, keep_implementation,
                                keeps_activations, mask_lengths,
                                split_cell_kwargs, step_fusable)
from tfrnn.layers.lstm_options import OPTIONS
from tfrnn.ops import lstm_sequence, lstm_step

# Arguments of keras.layers.LSTM that belong to its cell.
_CELL_ARGS = (
    "activation", "recurrent_activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "unit_forget_bias",
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
    "recurrent_dropout", "seed", "forget_bias")


def _bias_or_zeros(cell):
    return bias_or_zeros(cell, [4 * cell.units])


@keras.saving.register_keras_serializable(package="tfrnn")
class LSTMCell(keras.layers.LSTMCell):
    """`keras.layers.LSTMCell` whose step runs the fused single-step op.

    Same arguments, weights and config as Keras's cell, plus `forget_bias`:
    the value the forget gate's bias starts at (None: Keras's behaviour, 1.0
    when unit_forget_bias). A positive start keeps the cell state, and so the
    gradient, flowing through early training; Jozefowicz et al. (2015) found
    1.0 closes most of the LSTM's gap to the GRU. Usable in
    `keras.layers.RNN` and for step-by-step decoding.

    The options proj_size, peephole, layer_norm, cell_clip, zoneout_h,
    zoneout_c and zoneout_inference are tfrnn.layers.lstm_options'; with
    any of them on, the step runs the fused step op with them (zoneout_h
    not with recurrent dropout: then that module's math in stock ops), and
    the weights kernel [I,4H], recurrent_kernel [P or H,4H], bias [4H] are
    followed by projection_kernel [H,P], peephole_weights [3,H] (i, f, o)
    and the layer-norm gains/shift, as enabled.

    >>> import numpy as np
    >>> cell = LSTMCell(4, forget_bias=1.0)
    >>> h, (h_again, c) = cell(np.ones((2, 3), "float32"),
    ...                        [np.zeros((2, 4), "float32")] * 2)
    >>> h.shape, c.shape
    (TensorShape([2, 4]), TensorShape([2, 4]))
    """

    def __init__(self, units, forget_bias=None, proj_size=None,
                 peephole=False, layer_norm=False, cell_clip=None,
                 zoneout_h=0.0, zoneout_c=0.0,
                 zoneout_inference="expectation", **kwargs):
        implementation = kwargs.get("implementation", 2)
        super().__init__(units, **kwargs)
        keep_implementation(self, implementation)
        self.forget_bias = None if forget_bias is None else float(forget_bias)
        for name, value in lstm_options.checked_options(
                proj_size=proj_size, peephole=peephole, layer_norm=layer_norm,
                cell_clip=cell_clip, zoneout_h=zoneout_h, zoneout_c=zoneout_c,
                zoneout_inference=zoneout_inference).items():
            setattr(self, name, value)
        self.output_width = self.proj_size or units
        self.state_size = [self.output_width, units]
        self.output_size = self.output_width

    def build(self, input_shape):
        if self.proj_size:
            self._build_projected(input_shape[-1])
        else:
            super().build(input_shape)
        if self.use_bias and self.forget_bias is not None:
            units = self.units
            bias = tf.convert_to_tensor(self.bias)
            self.bias.assign(tf.concat([
                bias[:units], tf.fill([units], tf.cast(self.forget_bias,
                                                       bias.dtype)),
                bias[2 * units:]], axis=0))
        lstm_options.add_option_weights(self)
        self.built = True

    def _build_projected(self, input_size):
        """Keras's three weights with a recurrent kernel P rows tall."""
        units = self.units
        self.kernel = self.add_weight(
            shape=(input_size, 4 * units), name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.proj_size, 4 * units), name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            base = self.bias_initializer
            initializer = base
            if self.unit_forget_bias:
                def initializer(shape, dtype=None):
                    b = base((4 * units,), dtype=dtype)
                    return tf.concat([b[:units], tf.ones([units], b.dtype),
                                      b[2 * units:]], 0)
            self.bias = self.add_weight(
                shape=(4 * units,), name="bias", initializer=initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint)

    @property
    def options(self):
        """{name: value} of the options (tfrnn.layers.lstm_options)."""
        return {name: getattr(self, name) for name in OPTIONS}

    def get_config(self):
        return {**super().get_config(), "forget_bias": self.forget_bias,
                **self.options}

    def call(self, inputs, states, training=False):
        h_prev, c = states
        dp_mask, rec_mask = dropout_masks(self, inputs, h_prev, training)
        h = h_prev if rec_mask is None else h_prev * rec_mask
        x = inputs if dp_mask is None else inputs * dp_mask
        # The step op has no recurrent mask input: it takes the masked
        # h_{t-1}, which zoneout_h must not mix in.
        on_op = (step_fusable(self, training)
                 and not (rec_mask is not None and self.zoneout_h))
        if on_op:
            h, c = lstm_step(x, h, c, self.kernel, self.recurrent_kernel,
                             _bias_or_zeros(self),
                             **self.op_options(tf.shape(h)[:1], training))
        elif lstm_options.any_on(self.options):
            h, c = lstm_options.options_step(self, x, h_prev, h, c, training)
        else:
            return super().call(inputs, [h, c], training=training)
        return h, [h, c]

    def op_options(self, leading, training):
        """The ops' option arguments: peepholes, the clip, the layer norm's
        weights, the projection, and the zoneout weights of h and c after
        the `leading` dims ([B] a step, [B,T] a sequence: training masks
        drawn here)."""
        layer_norm = None
        if self.layer_norm:
            layer_norm = (self.gain_x, self.gain_h, self.gain_c, self.shift_c)

        def zoneout(rate, width):
            return lstm_options.zoneout_weights(
                self, rate, tf.concat([leading, [width]], 0), training)

        return dict(
            peephole=self.peephole_weights if self.peephole else None,
            cell_clip=self.cell_clip, layer_norm=layer_norm,
            layer_norm_epsilon=lstm_options.LAYER_NORM_EPSILON,
            projection=self.projection_kernel if self.proj_size else None,
            zoneout_h=zoneout(self.zoneout_h, self.output_width),
            zoneout_c=zoneout(self.zoneout_c, self.units))


@keras.saving.register_keras_serializable(package="tfrnn")
class ExtendedLSTMCell(LSTMCell):
    """The name LSTMCell with options had before they joined it; kept so
    that `.keras` files saved then still load. Use LSTMCell."""


@keras.saving.register_keras_serializable(package="tfrnn")
class LSTM(FusedRNN, keras.layers.LSTM):
    """Long Short-Term Memory layer on the fused op (Hochreiter 1997).

    Takes the arguments of `keras.layers.LSTM` (units, activation,
    recurrent_activation, use_bias, initializers, regularizers, constraints,
    unit_forget_bias, dropout, recurrent_dropout, seed, return_sequences,
    return_state, go_backwards, stateful, unroll, zero_output_for_mask) and
    gives Keras's results for them. `use_cudnn` is accepted and ignored: the
    fused op serves every device it is built for. Not XLA-compilable
    (`supports_jit = False`). Beyond Keras: `forget_bias` (see LSTMCell),
    `time_major`, `trainable_initial_state` (see FusedRNN), and the options
    of tfrnn.layers.lstm_options: `peephole`, `cell_clip`, `zoneout_h`,
    `zoneout_c`, `zoneout_inference`, `layer_norm` and `proj_size` (all on
    the fused op). See the module docstring for what
    `recurrent_dropout` does.

    >>> import numpy as np
    >>> layer = LSTM(8, return_sequences=True, return_state=True)
    >>> output, h, c = layer(np.zeros((2, 5, 3), "float32"))
    >>> output.shape, h.shape, c.shape
    (TensorShape([2, 5, 8]), TensorShape([2, 8]), TensorShape([2, 8]))
    >>> [w.shape for w in layer.get_weights()]  # Keras's own layout
    [(3, 32), (8, 32), (32,)]
    """

    def __init__(self, units, **kwargs):
        cell = LSTMCell(
            units, name="lstm_cell", dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            implementation=kwargs.pop("implementation", 2),
            **split_cell_kwargs(kwargs, _CELL_ARGS + OPTIONS))
        self._init_fused(cell, kwargs)

    @property
    def forget_bias(self):
        return self.cell.forget_bias

    def get_config(self):
        config = super().get_config()
        config["forget_bias"] = self.forget_bias
        config.update(self.cell.options)
        return self._fused_config(config)

    def _cell_fusable(self):
        return has_op_activations(self.cell)

    def state_sequences(self, inputs, initial_state=None, mask=None):
        """(h, c) at every step, [B,T,P or H] and [B,T,H], aligned with the
        inputs and 0 after a row's end, for analysis (no gradient through
        c). Inference
        mode; the mask must be right-padded (rows given by their lengths).
        """
        if self.time_major:
            inputs = tf.transpose(inputs, [1, 0, 2])
            mask = None if mask is None else tf.transpose(mask)
        batch = tf.shape(inputs)[0]
        h0, c0 = (initial_state if initial_state is not None
                  else self.get_initial_state(batch))
        if not self._cell_fusable():
            raise ValueError("state_sequences needs the fused op: default "
                             "activations")
        lengths = None if mask is None else mask_lengths(mask)
        h, _, _, c = lstm_sequence(
            inputs, h0, c0, self.cell.kernel, self.cell.recurrent_kernel,
            _bias_or_zeros(self.cell), lengths, reverse=self.go_backwards,
            training=False, return_cell_sequence=True,
            **self._op_options(inputs, False))
        if self.time_major:
            h, c = tf.transpose(h, [1, 0, 2]), tf.transpose(c, [1, 0, 2])
        return h, c

    def _op_options(self, sequences, training):
        """The sequence op's option arguments (zoneout [B,T,width])."""
        return self.cell.op_options(tf.shape(sequences)[:2], training)

    def _fused_op(self, sequences, initial_state, lengths, training,
                  recurrent_mask):
        h0, c0 = initial_state
        output, h_n, c_n = lstm_sequence(
            sequences, h0, c0, self.cell.kernel, self.cell.recurrent_kernel,
            _bias_or_zeros(self.cell), lengths, reverse=self.go_backwards,
            training=keeps_activations(training),
            recurrent_mask=recurrent_mask,
            **self._op_options(sequences, training))
        return output, [h_n, c_n]
