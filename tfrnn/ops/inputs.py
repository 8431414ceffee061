"""Input handling shared by the op wrappers: dtype checks, lengths, and
zero cotangents for gradients that TensorFlow leaves as None."""

import numpy as np
import tensorflow as tf

_OP_DTYPES = (tf.float32, tf.float64)
_CAST_DTYPES = (tf.float16, tf.bfloat16)


def invalid_argument(message):
    """An InvalidArgumentError, the error every bad op input raises."""
    return tf.errors.InvalidArgumentError(None, None, message)


# The Elman RNN's activations (its op's `nonlinearity` attribute).
NONLINEARITIES = ("tanh", "relu")


def check_nonlinearity(nonlinearity, error=invalid_argument):
    """Raises error(message) unless nonlinearity is "tanh" or "relu": an
    InvalidArgumentError for the ops, a ValueError for a layer's
    argument."""
    if nonlinearity not in NONLINEARITIES:
        raise error(f"nonlinearity must be 'tanh' or 'relu', got "
                    f"{nonlinearity!r}")


def as_float_tensors(**named):
    """Converts the named float inputs; all must share x's dtype."""
    first_name = next(iter(named))
    tensors = {name: tf.convert_to_tensor(value)
               for name, value in named.items()}
    dtype = tensors[first_name].dtype
    if dtype not in _OP_DTYPES + _CAST_DTYPES:
        raise invalid_argument(f"{first_name} must be float16, bfloat16, "
                               f"float32 or float64, got {dtype.name}")
    for name, t in tensors.items():
        if t.dtype != dtype:
            raise invalid_argument(
                f"{name} must have the dtype of {first_name} ({dtype.name}), "
                f"got {t.dtype.name}")
    if dtype in _CAST_DTYPES:
        tensors = {n: tf.cast(t, tf.float32) for n, t in tensors.items()}
    return dtype, list(tensors.values())


def lengths_or_full(sequence_length, x):
    """sequence_length as int32 [B]; None means every row runs all T steps."""
    time = tf.shape(x, out_type=tf.int32)[1]
    if sequence_length is None:
        return tf.fill(tf.shape(x, out_type=tf.int32)[:1], time)
    lengths = tf.convert_to_tensor(sequence_length)
    if lengths.dtype not in (tf.int32, tf.int64):
        raise invalid_argument("sequence_length must be int32 or int64, "
                               f"got {lengths.dtype.name}")
    if lengths.dtype == tf.int64:
        # Clip before narrowing so an out-of-range value stays out of range
        # (and is rejected) instead of wrapping into range.
        lengths = tf.cast(tf.clip_by_value(
            lengths, -1, tf.cast(time, tf.int64) + 1), tf.int32)
    return lengths


def mask_or_empty(recurrent_mask, dtype):
    """The recurrent mask in the compute dtype, or the op's "no mask": an
    empty [0] tensor. The mask is data, not a parameter: no gradient."""
    if recurrent_mask is None:
        return tf.zeros([0], dtype)
    return tf.stop_gradient(tf.cast(recurrent_mask, dtype))


def zoneout_or_empty(zoneout, name, dtype):
    """A zoneout input in the compute dtype (a scalar or [B,T,H]: the share
    of the previous state each unit keeps), or the op's "none": [0]. Data,
    not a parameter: no gradient. A number outside [0, 1] is refused here;
    the kernel checks tensors."""
    if zoneout is None:
        return tf.zeros([0], dtype)
    if isinstance(zoneout, (int, float)) and not 0.0 <= zoneout <= 1.0:
        raise invalid_argument(f"{name} must lie in [0, 1], got {zoneout}")
    # dtype_hint: a Python number in float64 stays exact.
    return tf.stop_gradient(tf.cast(
        tf.convert_to_tensor(zoneout, dtype_hint=dtype), dtype))


def cell_clip_or_none(cell_clip):
    """cell_clip as the op's attr: a positive float (rounded to float32, as
    the attr stores it, so that the pure-TF path clips at the same value),
    or -1 for none."""
    if cell_clip is None:
        return -1.0
    if not isinstance(cell_clip, (int, float)) or not cell_clip > 0:
        raise invalid_argument(
            f"cell_clip must be a positive number or None, got {cell_clip!r}")
    return float(np.float32(cell_clip))


def epsilon_or_error(epsilon):
    """layer_norm_epsilon as the op's float attr (rounded to float32, as it
    stores it, so that the pure-TF path adds the same value); a positive
    number."""
    if not isinstance(epsilon, (int, float)) or not epsilon > 0:
        raise invalid_argument(
            f"layer_norm_epsilon must be a positive number, got {epsilon!r}")
    return float(np.float32(epsilon))


def zeros_if_none(grad, like):
    """A gradient TensorFlow left as None (no path), as zeros."""
    return tf.zeros_like(like) if grad is None else grad
