"""SequenceClassifier: masked many-to-one on variable-length sequences."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfrnn.zoo import SequenceClassifier
from tfrnn.zoo.classifier import masked_pool


def last_token_task(n, max_len=20, classes=4, seed=0):
    """Label = class of each row's last real token (ids 1..classes*2),
    right-padded with 0: unlearnable if padding leaks into the summary."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_len + 1, size=n)
    x = rng.integers(1, 2 * classes + 1, size=(n, max_len)).astype(np.int32)
    x[np.arange(max_len)[None, :] >= lengths[:, None]] = 0
    y = (x[np.arange(n), lengths - 1] - 1) % classes
    return x, y.astype(np.int32)


def test_beats_chance_by_a_wide_margin_on_a_masked_task():
    keras.utils.set_random_seed(0)
    x, y = last_token_task(3000)
    vx, vy = last_token_task(500, seed=1)
    model = SequenceClassifier(4, vocab_size=9, embedding_dim=8, units=24)
    model.compile(keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=4, verbose=0)
    _, accuracy = model.evaluate(vx, vy, verbose=0)
    assert accuracy > 0.9  # chance is 0.25


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("cell, bidirectional", [("lstm", False),
                                                 ("gru", True),
                                                 ("rnn", True)])
def test_padding_does_not_change_the_logits(pooling, cell, bidirectional):
    keras.utils.set_random_seed(2)
    model = SequenceClassifier(3, vocab_size=9, embedding_dim=4, units=6,
                               cell=cell, bidirectional=bidirectional,
                               num_layers=2, pooling=pooling)
    x, _ = last_token_task(8, max_len=7, seed=3)
    padded = np.concatenate([x, np.zeros((8, 5), np.int32)], axis=1)
    np.testing.assert_allclose(model(x), model(padded), atol=1e-5)


def test_masked_pool_matches_numpy():
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(3, 5, 2)).astype(np.float32)
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]],
                    bool)
    mean = masked_pool(tf.constant(seq), tf.constant(mask), "mean").numpy()
    top = masked_pool(tf.constant(seq), tf.constant(mask), "max").numpy()
    for row in range(2):
        np.testing.assert_allclose(mean[row], seq[row, mask[row]].mean(0),
                                   rtol=1e-6)
        np.testing.assert_allclose(top[row], seq[row, mask[row]].max(0))
    np.testing.assert_array_equal(mean[2], 0)
    np.testing.assert_array_equal(top[2], 0)


def test_feature_inputs_like_mnist_rows(tmp_path):
    """Float rows (no embedding, no mask), e.g. 28 steps of 28 pixels."""
    keras.utils.set_random_seed(0)
    model = SequenceClassifier(10, units=8, pooling="mean")
    x = np.random.default_rng(0).random((4, 28, 28)).astype(np.float32)
    assert model(x).shape == (4, 10)
    model.save(tmp_path / "rows.keras")
    loaded = keras.models.load_model(tmp_path / "rows.keras")
    np.testing.assert_array_equal(model(x), loaded(x))


def test_keras_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = SequenceClassifier(4, vocab_size=9, units=8, cell="gru",
                               bidirectional=True, num_layers=2, dropout=0.2)
    x, _ = last_token_task(6)
    model(x)
    model.save(tmp_path / "clf.keras")
    loaded = keras.models.load_model(tmp_path / "clf.keras")
    np.testing.assert_array_equal(model(x), loaded(x))


@pytest.mark.parametrize("kwargs, message", [
    ({"pooling": "first"}, "pooling"), ({"cell": "transformer"}, "cell"),
    ({"num_classes": 1}, "num_classes")])
def test_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SequenceClassifier(**{"num_classes": 3, **kwargs})
