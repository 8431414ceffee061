"""Variable-length batching: buckets by length, padding, and loss masking.

Padding is id 0 everywhere (`vocab.PAD`), so `Embedding(mask_zero=True)`
turns padded batches into masks the tfrnn layers honour, and
`MaskedSparseCategoricalCrossentropy` averages over real tokens only.
"""


import numpy as np
import tensorflow as tf

from tfrnn.arguments import at_least, is_integer
from tfrnn.data.vocab import PAD


def _first_length(*components):
    """Length of an element's first (or only) sequence component (tf.data
    passes a tuple element's components as separate arguments)."""
    first = tf.nest.flatten(components)[0]
    return tf.shape(first)[0]


def bucket_boundaries(lengths, num_buckets=8, max_spread=1.5):
    """Bucket boundaries from the length histogram.

    Starts from `num_buckets` quantiles (equal numbers of examples per
    bucket), then splits any bucket whose longest length exceeds its shortest
    by more than `max_spread` times, geometrically: long-tailed data (a few
    very long examples) would otherwise pad its widest bucket heavily.
    max_spread=None keeps the plain quantiles.
    """
    lengths = np.asarray(lengths)
    if lengths.size == 0:
        raise ValueError("lengths is empty: no examples to bucket")
    if lengths.dtype.kind not in "iu" or lengths.ndim != 1 or \
            lengths.min() < 0:
        raise ValueError(f"lengths must be a list of integers >= 0, got "
                         f"{lengths.dtype} values of shape {lengths.shape} "
                         f"from {lengths.min()} to {lengths.max()}")
    at_least("num_buckets", num_buckets, 1)
    quantiles = np.quantile(lengths, np.linspace(0, 1, num_buckets + 1)[1:-1])
    # bucket_by_sequence_length puts length L in the first bucket with
    # L < boundary, so a boundary just above a quantile keeps it inside.
    boundaries = sorted(set(int(q) + 1 for q in quantiles))
    if max_spread is None:
        return boundaries
    if max_spread <= 1:
        raise ValueError(f"max_spread must be > 1, got {max_spread}")
    edges = [int(lengths.min())] + boundaries + [int(lengths.max()) + 1]
    refined = []
    for low, high in zip(edges[:-1], edges[1:]):
        edge = max(low, 1)
        while edge * max_spread < high - 1:
            edge = int(np.ceil(edge * max_spread))
            refined.append(edge)
        refined.append(high)
    return sorted(set(refined[:-1]))


def bucket_by_length(dataset, batch_size, boundaries, length_fn=None,
                     drop_remainder=False):
    """Batches examples of similar length together, padded with PAD.

    `dataset` yields variable-length sequences (or tuples of them, e.g.
    (inputs, targets)); every component is padded to its batch's longest.
    """
    _check_batch_size(batch_size)
    boundaries = list(boundaries)
    if not all(is_integer(b) for b in boundaries) or \
            boundaries != sorted(set(boundaries)) or \
            (boundaries and boundaries[0] < 1):
        raise ValueError(f"boundaries must be increasing integers >= 1 (an "
                         f"empty list is one bucket), got {boundaries}")
    length_fn = length_fn or _first_length
    return dataset.bucket_by_sequence_length(
        element_length_func=length_fn, bucket_boundaries=list(boundaries),
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padding_values=_pad_values(dataset), drop_remainder=drop_remainder)


def padded_batches(dataset, batch_size, pad_to=None, drop_remainder=False):
    """Plain padded batches: each padded to its own longest, or to `pad_to`
    (one global length) when given."""
    _check_batch_size(batch_size)
    shapes = tf.nest.map_structure(
        lambda spec: [pad_to] + spec.shape[1:].as_list()
        if spec.shape.rank else [], dataset.element_spec)
    return dataset.padded_batch(batch_size, padded_shapes=shapes,
                                padding_values=_pad_values(dataset),
                                drop_remainder=drop_remainder)


def _check_batch_size(batch_size):
    at_least("batch_size", batch_size, 1)


def _pad_values(dataset):
    return tf.nest.map_structure(
        lambda spec: tf.constant(PAD, spec.dtype) if spec.dtype.is_integer
        else tf.constant(0, spec.dtype), dataset.element_spec)


def padding_fraction(batches):
    """Fraction of the positions of the first component that are padding,
    over a batched dataset (padding is id PAD)."""
    padded = real = 0
    for batch in batches:
        ids = tf.nest.flatten(batch)[0].numpy()
        padded += ids.size
        real += int(np.count_nonzero(ids != PAD))
    return 0.0 if padded == 0 else 1.0 - real / padded


def with_loss_mask(dataset):
    """(inputs, targets) -> (inputs, targets, weights): weights are 1 on real
    targets and 0 on padding, as Keras sample weights."""
    return dataset.map(
        lambda x, y: (x, y, tf.cast(tf.not_equal(y, PAD), tf.float32)),
        num_parallel_calls=tf.data.AUTOTUNE)
