"""Bucketing by length, padding fractions, and loss masking."""

import collections

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrnn
from tfrnn.data import (PAD, bucket_boundaries, bucket_by_length,
                        padded_batches, padding_fraction, with_loss_mask)
from tfrnn.training import MaskedSparseCategoricalCrossentropy


def sentence_like_lengths(count, seed=0):
    """A realistic length mix: log-normal, as sentence/review lengths are,
    with a long tail (median ~20, a few in the hundreds)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.lognormal(3.0, 0.7, size=count).astype(int), 1, 400)


def examples_with_ids(lengths):
    """Example k is the id k+1 repeated length[k] times (ids are never PAD)."""
    return tf.data.Dataset.from_generator(
        lambda: (np.full(n, k + 1, np.int32) for k, n in enumerate(lengths)),
        output_signature=tf.TensorSpec([None], tf.int32))


def test_quantile_boundaries_make_equal_buckets():
    lengths = sentence_like_lengths(5000)
    boundaries = bucket_boundaries(lengths, num_buckets=4, max_spread=None)
    assert boundaries == sorted(boundaries) and len(boundaries) == 3
    counts = np.histogram(lengths, [0] + boundaries + [10**6])[0]
    assert counts.min() > 0.15 * len(lengths)  # roughly equal buckets


@pytest.mark.parametrize("max_spread", [1.25, 1.5, 2.0])
def test_refined_boundaries_bound_each_buckets_spread(max_spread):
    lengths = sentence_like_lengths(5000)
    boundaries = bucket_boundaries(lengths, 4, max_spread=max_spread)
    assert set(bucket_boundaries(lengths, 4, None)) <= set(boundaries)
    edges = [lengths.min()] + boundaries + [lengths.max() + 1]
    for low, high in zip(edges[:-1], edges[1:]):
        in_bucket = lengths[(lengths >= low) & (lengths < high)]
        if in_bucket.size:
            assert in_bucket.max() <= max_spread * max(in_bucket.min(), 1) + 1


def test_bucketing_keeps_every_example_once_and_cuts_padding():
    lengths = sentence_like_lengths(3000)
    data = examples_with_ids(lengths)
    boundaries = bucket_boundaries(lengths, num_buckets=8)
    bucketed = bucket_by_length(data, 32, boundaries)

    seen = collections.Counter()
    for batch in bucketed:
        for row in batch.numpy():
            real = row[row != PAD]
            assert len(set(real)) == 1  # one example per row, not mixed
            seen[int(real[0])] += 1
            assert len(real) == lengths[real[0] - 1]
    assert seen == collections.Counter(range(1, len(lengths) + 1))

    global_pad = padding_fraction(
        padded_batches(data, 32, pad_to=int(lengths.max())))
    per_batch = padding_fraction(padded_batches(data, 32))
    with_buckets = padding_fraction(bucketed)
    print(f"padding: one global pad {global_pad:.1%}, per batch "
          f"{per_batch:.1%}, bucketed {with_buckets:.1%}")
    assert with_buckets * 2 <= global_pad
    assert with_buckets * 2 <= per_batch


def test_bucketing_pads_tuples_and_keeps_scalars():
    data = tf.data.Dataset.from_generator(
        lambda: ((np.arange(1, n + 1), np.arange(1, n + 1), n) for n in
                 [3, 1, 7, 2, 9, 4]),
        output_signature=(tf.TensorSpec([None], tf.int64),
                          tf.TensorSpec([None], tf.int64),
                          tf.TensorSpec([], tf.int64)))
    for x, y, n in bucket_by_length(data, 2, [4]):
        assert x.shape == y.shape and n.shape == (x.shape[0],)
        np.testing.assert_array_equal(np.count_nonzero(x, axis=1), n)


def test_masked_loss_counts_real_tokens_only():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((3, 6, 5)).astype("float32")
    targets = rng.integers(1, 5, size=(3, 6))
    targets[0, 4:] = PAD
    targets[2, 1:] = PAD
    real = targets != PAD
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    expected = -picked[real].mean()
    loss = MaskedSparseCategoricalCrossentropy()
    np.testing.assert_allclose(loss(targets, logits), expected, rtol=1e-6)
    # More padding changes nothing.
    wider_t = np.pad(targets, ((0, 0), (0, 4)))
    wider_l = np.pad(logits, ((0, 0), (0, 4), (0, 0)))
    np.testing.assert_allclose(loss(wider_t, wider_l), expected, rtol=1e-6)
    # All padding: zero, not NaN.
    assert float(loss(np.zeros_like(targets), logits)) == 0.0


def test_masked_loss_equals_keras_mask_route_in_a_model():
    """Embedding(mask_zero) -> tfrnn LSTM -> Dense carries a Keras mask to
    the loss; Keras's loss then averages over real tokens, like ours."""
    rng = np.random.default_rng(2)
    x = rng.integers(1, 9, size=(16, 10))
    for row, n in enumerate(rng.integers(1, 11, size=16)):
        x[row, n:] = PAD
    y = np.where(x != PAD, x % 8 + 1, PAD)  # real targets are never PAD
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(10, 8, mask_zero=True),
        tfrnn.layers.LSTM(12, return_sequences=True), keras.layers.Dense(10)])
    model.compile(loss=MaskedSparseCategoricalCrossentropy())
    ours = model.evaluate(x, y, batch_size=16, verbose=0)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    keras_masked = model.evaluate(x, y, batch_size=16, verbose=0)
    np.testing.assert_allclose(ours, keras_masked, rtol=1e-5)


def test_loss_mask_weights_and_serialization():
    data = tf.data.Dataset.from_tensors(([1, 2, 0], [2, 3, 0]))
    (_, _, weights), = list(with_loss_mask(data))
    assert weights.numpy().tolist() == [1.0, 1.0, 0.0]
    loss = MaskedSparseCategoricalCrossentropy(from_logits=False, pad_id=0)
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(clone, MaskedSparseCategoricalCrossentropy)
    assert clone.from_logits is False
