"""The checks of a recurrent layer's call inputs, before any work: what Keras
refuses is refused here too, with the argument and the expected value
named, and nothing is accepted that would give a wrong shape or value.

- inputs: float, or integer/bool (cast to the compute dtype, as Keras's
  layers take them); complex and string inputs are refused (a cast would
  drop the imaginary part in silence, or fail deep inside the op);
- mask: [B, T] ([T, B] time-major) of the inputs' own sizes, or [B, T, 1]
  as Keras takes it; bool, or numbers (nonzero is True, as Keras casts);
  sizes unknown at trace time are checked when the graph runs;
- initial_state: one tensor per state of the cell ([h] or [h, c]);
- sequence_length (StackedRNN): integers [B], each in [0, T].
"""

import tensorflow as tf


def _refused_dtype(dtype):
    return dtype.is_complex or dtype in (tf.string, tf.resource, tf.variant)


def as_compute_dtype(inputs, dtype, name="inputs"):
    """Integer (or bool) inputs cast to the compute dtype, as Keras's own
    layers accept them; float inputs as they are (Keras autocasts those).
    Complex and string inputs are a TypeError naming `name`."""
    inputs = tf.convert_to_tensor(inputs)
    if _refused_dtype(inputs.dtype):
        raise TypeError(
            f"{name} must be a float tensor (integer and bool are cast to "
            f"{tf.as_dtype(dtype).name}), got dtype {inputs.dtype.name}")
    if inputs.dtype.is_floating:
        return inputs
    return tf.cast(inputs, dtype)


def checked_mask(mask, sequences, time_major=False):
    """The mask as a bool [B, T] ([T, B] when time_major, as the inputs
    are laid out), checked against `sequences`' first two sizes."""
    if mask is None:
        return None
    if tf.nest.is_nested(mask):  # Keras passes the inputs' masks as a list
        mask = tf.nest.flatten(mask)[0]
        if mask is None:
            return None
    mask = tf.convert_to_tensor(mask)
    layout = "[time, batch]" if time_major else "[batch, time]"
    if _refused_dtype(mask.dtype):
        raise TypeError(f"mask must be bool (or numbers, nonzero for "
                        f"True), got dtype {mask.dtype.name}")
    if mask.shape.rank == 3 and mask.shape[-1] == 1:
        mask = tf.squeeze(mask, -1)
    elif mask.shape.rank == 3 and mask.shape[-1] is None:
        check = tf.debugging.assert_equal(
            tf.shape(mask)[-1], 1,
            message=f"mask must be {layout} or {layout[:-1]}, 1]")
        with tf.control_dependencies([check]):
            mask = tf.reshape(mask, tf.shape(mask)[:2])
    expected = sequences.shape[:2]
    if mask.shape.rank != 2:
        raise ValueError(f"mask must be {layout} {expected.as_list()} like "
                         f"the inputs, got shape {mask.shape.as_list()}")
    for got, want in zip(mask.shape, expected):
        if got is not None and want is not None and got != want:
            raise ValueError(
                f"mask must be {layout} {expected.as_list()} like the "
                f"inputs, got shape {mask.shape.as_list()}")
    if not (mask.shape.is_fully_defined() and expected.is_fully_defined()):
        check = tf.debugging.assert_equal(
            tf.shape(mask), tf.shape(sequences)[:2],
            message=f"mask must be {layout} like the inputs")
        with tf.control_dependencies([check]):
            mask = tf.identity(mask)
    return mask if mask.dtype == tf.bool else tf.not_equal(mask, 0)


def check_state_count(initial_state, state_size, layer_name):
    """Raises ValueError unless initial_state holds one tensor per state."""
    if initial_state is None:
        return
    got = len(tf.nest.flatten(initial_state))
    want = len(state_size)
    if got != want:
        names = "[h, c]" if want == 2 else "[h]"
        raise ValueError(f"{layer_name} takes {want} initial state(s) "
                         f"{names}, got {got}")


def checked_lengths(lengths, sequences):
    """sequence_length as int32 [B], each in [0, T] of sequences [B, T,
    ...] (checked when the graph runs where sizes are unknown)."""
    lengths = tf.convert_to_tensor(lengths)
    if not lengths.dtype.is_integer:
        raise TypeError(f"sequence_length must be integers, got dtype "
                        f"{lengths.dtype.name}")
    lengths = tf.cast(lengths, tf.int32)
    if lengths.shape.rank != 1 or lengths.shape[0] not in (
            None, sequences.shape[0]) and sequences.shape[0] is not None:
        raise ValueError(f"sequence_length must be [batch] = "
                         f"[{sequences.shape[0]}], got shape "
                         f"{lengths.shape.as_list()}")
    shape = tf.shape(sequences)
    checks = [
        tf.debugging.assert_equal(tf.shape(lengths)[0], shape[0], message=(
            "sequence_length must have one length per row of the inputs")),
        tf.debugging.assert_non_negative(
            lengths, message="sequence_length must be >= 0"),
        tf.debugging.assert_less_equal(
            lengths, shape[1],
            message="sequence_length must be <= the inputs' time steps")]
    with tf.control_dependencies(checks):
        return tf.identity(lengths)
