"""LSTM variants the fused op does not run: projection (LSTMP), peepholes,
layer normalisation and zoneout, as one cell run by Keras's step loop.

`tfrnn.layers.LSTM(units, proj_size=..., peephole=True, layer_norm=True,
zoneout_h=..., zoneout_c=...)` builds this cell; with none of them set the
layer keeps the plain `LSTMCell` and the fused op.

Per step (gate order i, f, c, o as Keras):
    z = LN_x(x W) + LN_h(h' U) + b        h' = h_{t-1} (* recurrent mask)
    i = σ(z_i + p_i * c_{t-1}),  f = σ(z_f + p_f * c_{t-1}),  g = tanh(z_c)
    c = f * c_{t-1} + i * g
    o = σ(z_o + p_o * c)
    h = (o * tanh(LN_c(c))) W_proj
- proj_size P (Sak et al. 2014; torch.nn.LSTM(proj_size=P)): h and the
  recurrent kernel are P wide, c stays `units` wide.
- peephole (Gers & Schmidhuber 2000, as TF's BlockLSTM): p_i, p_f, p_o.
- layer_norm (Ba et al. 2016): LN_x, LN_h over the 4 gates' pre-activations
  (gain only; the bias is b), LN_c over c (gain and shift).
- zoneout (Krueger et al. 2016): in training each unit of h and c keeps its
  previous value with probability zoneout_h / zoneout_c, drawn anew each
  step; in inference (zoneout_inference="expectation", the paper's choice)
  the expected value, z * previous + (1 - z) * new, so the network run at
  test time is the one trained on average; zoneout_inference="identity"
  turns zoneout off in inference instead, like dropout.
"""

import keras
import tensorflow as tf

from tfrnn.layers.fused import dropout_masks
from tfrnn.layers.lstm import LSTMCell

OPTIONS = ("proj_size", "peephole", "layer_norm", "zoneout_h", "zoneout_c",
           "zoneout_inference")
ZONEOUT_INFERENCE = ("expectation", "identity")
_EPSILON = 1e-3


def wants_extended(kwargs):
    """Whether layer/cell kwargs turn on an option only this cell has
    (zoneout_inference alone changes nothing)."""
    return any(kwargs.get(k) for k in OPTIONS if k != "zoneout_inference")


def _layer_norm(z, gain, shift=None, groups=1):
    """Normalises each of `groups` equal slices of z's last axis."""
    shape = tf.shape(z)
    parts = tf.reshape(z, tf.concat([shape[:-1], [groups, -1]], 0))
    mean, variance = tf.nn.moments(parts, axes=[-1], keepdims=True)
    normed = tf.reshape((parts - mean) * tf.math.rsqrt(variance + _EPSILON),
                        shape) * gain
    return normed if shift is None else normed + shift


@keras.saving.register_keras_serializable(package="tfrnn")
class ExtendedLSTMCell(LSTMCell):
    """LSTMCell with proj_size, peephole, layer_norm and zoneout (see the
    module docstring). Weights: kernel [I,4H], recurrent_kernel [P or H,
    4H], bias [4H], and as enabled projection_kernel [H,P],
    peephole_weights [3,H] (i, f, o), layer-norm gains/shift."""

    def __init__(self, units, proj_size=None, peephole=False,
                 layer_norm=False, zoneout_h=0.0, zoneout_c=0.0,
                 zoneout_inference="expectation", **kwargs):
        super().__init__(units, **kwargs)
        if zoneout_inference not in ZONEOUT_INFERENCE:
            raise ValueError(f"zoneout_inference must be one of "
                             f"{ZONEOUT_INFERENCE}, got {zoneout_inference!r}")
        self.zoneout_inference = zoneout_inference
        if proj_size is not None and not 0 < proj_size:
            raise ValueError(f"proj_size must be a positive int, got "
                             f"{proj_size}")
        for name, value in (("zoneout_h", zoneout_h),
                            ("zoneout_c", zoneout_c)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        self.proj_size = None if proj_size is None else int(proj_size)
        self.peephole, self.layer_norm = bool(peephole), bool(layer_norm)
        self.zoneout_h, self.zoneout_c = float(zoneout_h), float(zoneout_c)
        self.output_width = self.proj_size or units
        self.state_size = [self.output_width, units]
        self.output_size = self.output_width

    def build(self, input_shape):
        units, width = self.units, self.output_width
        self.kernel = self.add_weight(
            shape=(input_shape[-1], 4 * units), name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(width, 4 * units), name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(4 * units,), name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint)
        if self.proj_size:
            self.projection_kernel = self.add_weight(
                shape=(units, width), name="projection_kernel",
                initializer=self.kernel_initializer)
        if self.peephole:
            self.peephole_weights = self.add_weight(
                shape=(3, units), name="peephole_weights",
                initializer="zeros")
        if self.layer_norm:
            self.gain_x = self.add_weight(shape=(4 * units,), name="gain_x",
                                          initializer="ones")
            self.gain_h = self.add_weight(shape=(4 * units,), name="gain_h",
                                          initializer="ones")
            self.gain_c = self.add_weight(shape=(units,), name="gain_c",
                                          initializer="ones")
            self.shift_c = self.add_weight(shape=(units,), name="shift_c",
                                           initializer="zeros")
        self.built = True

    def _bias_initializer(self):
        """Keras's bias initializer with the forget gate's part set to
        forget_bias (or 1.0 with unit_forget_bias), as LSTMCell does."""
        forget = (self.forget_bias if self.forget_bias is not None
                  else 1.0 if self.unit_forget_bias else None)
        base, units = self.bias_initializer, self.units
        if forget is None:
            return base

        def initializer(shape, dtype=None):
            b = base((4 * units,), dtype=dtype)
            return tf.concat([b[:units], tf.fill([units], tf.cast(
                forget, b.dtype)), b[2 * units:]], 0)
        return initializer

    def get_initial_state(self, batch_size=None):
        return [tf.zeros([batch_size, size], self.compute_dtype)
                for size in self.state_size]

    def get_config(self):
        return {**super().get_config(), "proj_size": self.proj_size,
                "peephole": self.peephole, "layer_norm": self.layer_norm,
                "zoneout_h": self.zoneout_h, "zoneout_c": self.zoneout_c,
                "zoneout_inference": self.zoneout_inference}

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states
        dp_mask, rec_mask = dropout_masks(self, inputs, h_prev, training)
        x = inputs if dp_mask is None else inputs * dp_mask
        h_in = h_prev if rec_mask is None else h_prev * rec_mask
        zx = tf.matmul(x, self.kernel)
        zh = tf.matmul(h_in, self.recurrent_kernel)
        if self.layer_norm:
            zx = _layer_norm(zx, self.gain_x, groups=4)
            zh = _layer_norm(zh, self.gain_h, groups=4)
        z = zx + zh
        if self.use_bias:
            z = z + self.bias
        zi, zf, zg, zo = tf.split(z, 4, axis=-1)
        if self.peephole:
            p_i, p_f, p_o = tf.unstack(self.peephole_weights)
            zi, zf = zi + p_i * c_prev, zf + p_f * c_prev
        i = self.recurrent_activation(zi)
        f = self.recurrent_activation(zf)
        c = f * c_prev + i * self.activation(zg)
        if self.peephole:
            zo = zo + p_o * c
        c_out = (_layer_norm(c, self.gain_c, self.shift_c)
                 if self.layer_norm else c)
        h = self.recurrent_activation(zo) * self.activation(c_out)
        if self.proj_size:
            h = tf.matmul(h, self.projection_kernel)
        h = self._zoneout(h, h_prev, self.zoneout_h, training)
        c = self._zoneout(c, c_prev, self.zoneout_c, training)
        return h, [h, c]

    def _zoneout(self, new, previous, rate, training):
        if rate == 0.0:
            return new
        if not training:
            if self.zoneout_inference == "identity":
                return new
            return rate * previous + (1.0 - rate) * new
        keep_previous = keras.random.uniform(
            tf.shape(new), seed=self.seed_generator) < rate
        return tf.where(keep_previous, previous, new)
