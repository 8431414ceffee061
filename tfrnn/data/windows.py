"""Language-model windows: (inputs, next-token targets) over documents."""

import numpy as np
import tensorflow as tf


def window_count(length, seq_length, stride):
    """How many windows `language_model_windows` cuts from `length` ids."""
    if length < seq_length + 1:
        return 0
    return (length - seq_length - 1) // stride + 1


def language_model_windows(documents, seq_length, stride=None):
    """Cuts each document into windows; never across documents.

    `documents`: a tf.data.Dataset of 1-D id tensors (one per document), or
    one 1-D id tensor/array. A window covers seq_length + 1 ids starting every
    `stride` ids (default seq_length: no overlap); inputs are its first
    seq_length ids and targets the last seq_length (shifted by one). The tail
    too short for a full window is dropped, and so is a document shorter
    than one window; one id array shorter than a window is an error.
    """
    if seq_length < 1:
        raise ValueError(f"seq_length must be >= 1, got {seq_length}")
    stride = seq_length if stride is None else stride
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if not isinstance(documents, tf.data.Dataset):
        documents = tf.convert_to_tensor(documents)
        if documents.shape.rank != 1 or not documents.dtype.is_integer:
            raise ValueError(f"documents must be a tf.data.Dataset of 1-D "
                             f"ids or one 1-D id array, got "
                             f"{documents.dtype.name} of shape "
                             f"{documents.shape.as_list()}")
        if documents.shape[0] < seq_length + 1:
            raise ValueError(
                f"{documents.shape[0]} ids are too few for one window of "
                f"seq_length + 1 = {seq_length + 1}")
        documents = tf.data.Dataset.from_tensors(documents)

    def cut(ids):
        frames = tf.signal.frame(ids, seq_length + 1, stride, pad_end=False)
        return tf.data.Dataset.from_tensor_slices(frames)

    return documents.flat_map(cut).map(
        lambda w: (w[:-1], w[1:]), num_parallel_calls=tf.data.AUTOTUNE)


def stream_windows(ids, batch_size, seq_length):
    """Batches for truncated BPTT with a stateful model.

    `ids` (1-D) is cut into batch_size contiguous streams; batch k holds
    window k of every stream, so row r of batch k+1 continues row r of batch
    k and a carried state stays meaningful. Yields (inputs, targets), each
    [batch_size, seq_length]; the tail that fills no window is dropped.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
    if batch_size < 1 or seq_length < 1:
        raise ValueError("batch_size and seq_length must be >= 1, got "
                         f"{batch_size} and {seq_length}")
    per_stream = (len(ids) - 1) // batch_size
    steps = per_stream // seq_length
    if steps == 0:
        raise ValueError(f"{len(ids)} ids are too few for {batch_size} "
                         f"streams of one {seq_length}-step window")
    used = steps * seq_length
    starts = np.arange(batch_size)[:, None] * per_stream
    positions = starts + np.arange(used)[None, :]
    inputs, targets = ids[positions], ids[positions + 1]

    def by_window(a):  # [B, steps*L] -> [steps, B, L]
        return a.reshape(batch_size, steps, seq_length).transpose(1, 0, 2)

    return tf.data.Dataset.from_tensor_slices(
        (by_window(inputs), by_window(targets)))
