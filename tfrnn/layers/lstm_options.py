"""The LSTM's options beyond Keras: projection (LSTMP), peepholes, layer
normalisation, cell clipping and zoneout; their checks, weights and step
math, for `tfrnn.layers.LSTMCell`.

Per step (gate order i, f, c, o as Keras):
    z = LN_x(x W) + LN_h(h' U) + b        h' = h_{t-1} (* recurrent mask)
    i = σ(z_i + p_i * c_{t-1}),  f = σ(z_f + p_f * c_{t-1}),  g = tanh(z_c)
    c = clip(f * c_{t-1} + i * g)
    o = σ(z_o + p_o * c)
    h = (o * tanh(LN_c(c))) W_proj
- proj_size P (Sak et al. 2014; torch.nn.LSTM(proj_size=P)): h and the
  recurrent kernel are P wide, c stays `units` wide.
- peephole (Gers & Schmidhuber 2000, as TF's BlockLSTM): p_i, p_f, p_o.
- layer_norm (Ba et al. 2016): LN_x, LN_h over the 4 gates' pre-activations
  (gain only; the bias is b), LN_c over c (gain and shift).
- cell_clip (TF's LSTMCell and BlockLSTM): c clipped to [-clip, clip].
- zoneout (Krueger et al. 2016): in training each unit of h and c keeps its
  previous value with probability zoneout_h / zoneout_c, drawn anew each
  step; in inference (zoneout_inference="expectation", the paper's choice)
  the expected value, z * previous + (1 - z) * new, so the network run at
  test time is the one trained on average; zoneout_inference="identity"
  turns zoneout off in inference instead, like dropout.
Every option runs inside the fused op, on both of its kernels;
options_step is the same math in stock ops, for the steps the op does not
take (a recurrent mask with zoneout_h, other activations).
"""


import keras
import numpy as np
import tensorflow as tf

from tfrnn.arguments import is_integer, is_number
from tfrnn.ops.reference import layer_norm

OPTIONS = ("proj_size", "peephole", "layer_norm", "zoneout_h", "zoneout_c",
           "zoneout_inference", "cell_clip")
ZONEOUT_INFERENCE = ("expectation", "identity")
# The layer norm's epsilon, as the op's float attr holds it.
LAYER_NORM_EPSILON = float(np.float32(1e-3))


def checked_options(proj_size=None, peephole=False, layer_norm=False,
                    zoneout_h=0.0, zoneout_c=0.0,
                    zoneout_inference="expectation", cell_clip=None):
    """The options in their stored types; ValueError for a bad one."""
    if zoneout_inference not in ZONEOUT_INFERENCE:
        raise ValueError(f"zoneout_inference must be one of "
                         f"{ZONEOUT_INFERENCE}, got {zoneout_inference!r}")
    if proj_size is not None and (not is_integer(proj_size) or
                                  proj_size < 1):
        raise ValueError(f"proj_size must be a positive int, got "
                         f"{proj_size!r}")
    if cell_clip is not None and (not is_number(cell_clip) or
                                  not cell_clip > 0):
        raise ValueError(f"cell_clip must be positive or None, got "
                         f"{cell_clip!r}")
    for name, value in (("zoneout_h", zoneout_h), ("zoneout_c", zoneout_c)):
        if not is_number(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return dict(proj_size=None if proj_size is None else int(proj_size),
                peephole=bool(peephole), layer_norm=bool(layer_norm),
                zoneout_h=float(zoneout_h), zoneout_c=float(zoneout_c),
                zoneout_inference=zoneout_inference,
                cell_clip=None if cell_clip is None else float(cell_clip))


def any_on(options):
    """Whether an option changes the cell (zoneout_inference alone does
    not)."""
    return any(options[k] for k in OPTIONS if k != "zoneout_inference")


def add_option_weights(cell):
    """The weights the options add, after kernel, recurrent_kernel, bias:
    projection_kernel [H,P], peephole_weights [3,H] (i, f, o), the
    layer-norm gains and shift."""
    units, width = cell.units, cell.output_width
    if cell.proj_size:
        cell.projection_kernel = cell.add_weight(
            shape=(units, width), name="projection_kernel",
            initializer=cell.kernel_initializer)
    if cell.peephole:
        cell.peephole_weights = cell.add_weight(
            shape=(3, units), name="peephole_weights", initializer="zeros")
    if cell.layer_norm:
        for name, size, init in (("gain_x", 4 * units, "ones"),
                                 ("gain_h", 4 * units, "ones"),
                                 ("gain_c", units, "ones"),
                                 ("shift_c", units, "zeros")):
            setattr(cell, name, cell.add_weight(shape=(size,), name=name,
                                                initializer=init))


def options_step(cell, x, h_prev, h_in, c_prev, training):
    """One step of the module docstring's math with stock ops: x after
    input dropout, h_in = h_{t-1} as h.U sees it. Returns (h, c)."""
    zx = tf.matmul(x, cell.kernel)
    zh = tf.matmul(h_in, cell.recurrent_kernel)
    if cell.layer_norm:
        zx = layer_norm(zx, cell.gain_x, groups=4, epsilon=LAYER_NORM_EPSILON)
        zh = layer_norm(zh, cell.gain_h, groups=4, epsilon=LAYER_NORM_EPSILON)
    z = zx + zh
    if cell.use_bias:
        z = z + cell.bias
    zi, zf, zg, zo = tf.split(z, 4, axis=-1)
    if cell.peephole:
        p_i, p_f, p_o = tf.unstack(cell.peephole_weights)
        zi, zf = zi + p_i * c_prev, zf + p_f * c_prev
    i = cell.recurrent_activation(zi)
    f = cell.recurrent_activation(zf)
    c = f * c_prev + i * cell.activation(zg)
    if cell.cell_clip is not None:
        c = tf.clip_by_value(c, -cell.cell_clip, cell.cell_clip)
    if cell.peephole:
        zo = zo + p_o * c
    c_out = (layer_norm(c, cell.gain_c, cell.shift_c,
                        epsilon=LAYER_NORM_EPSILON) if cell.layer_norm else c)
    h = cell.recurrent_activation(zo) * cell.activation(c_out)
    if cell.proj_size:
        h = tf.matmul(h, cell.projection_kernel)
    h = _zoneout(cell, cell.zoneout_h, h, h_prev, training)
    c = _zoneout(cell, cell.zoneout_c, c, c_prev, training)
    return h, c


def _zoneout(cell, rate, new, previous, training):
    weights = zoneout_weights(cell, rate, tf.shape(new), training)
    if weights is None:
        return new
    return weights * previous + (1.0 - weights) * new


def zoneout_weights(cell, rate, shape, training):
    """The share of the previous state each unit keeps, for the op and the
    step alike: None (off), the rate (inference's expectation) or, in
    training, a mask of 0s and 1s of `shape` drawn from the cell's seed."""
    if rate == 0.0:
        return None
    identity = cell.zoneout_inference == "identity"
    if isinstance(training, bool) or training is None:
        if not training:
            return None if identity else tf.constant(rate, cell.compute_dtype)
    drawn = tf.cast(keras.random.uniform(shape, seed=cell.seed_generator)
                    < rate, cell.compute_dtype)
    if not tf.is_tensor(training):
        return drawn
    inference = tf.fill(shape, tf.constant(0.0 if identity else rate,
                                           cell.compute_dtype))
    return tf.where(tf.cast(training, tf.bool), drawn, inference)
