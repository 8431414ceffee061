"""CharLSTM: training, generation, stateful truncated BPTT, .keras."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrnn

from tfrnn.data import stream_windows
from tfrnn.zoo import CharLSTM
from tfrnn.training.recipes import (char_lstm_throughput, char_windows,
                               nats_per_char, train_char_lstm)

TEXT = ("the quick brown fox jumps over the lazy dog. " * 40 +
        "pack my box with five dozen liquor jugs. " * 40)


def small_model(**kwargs):
    keras.utils.set_random_seed(1)
    kwargs = {"units": 16, "num_layers": 2, "embedding_dim": 8, **kwargs}
    model = CharLSTM(CharLSTM.tokens_of(TEXT), **kwargs)
    model(tf.zeros([2, 5], tf.int32))
    return model


def test_training_lowers_the_loss_and_keeps_the_best(tmp_path):
    keras.utils.set_random_seed(0)
    untrained = CharLSTM(CharLSTM.tokens_of(TEXT), units=32, num_layers=1)
    untrained(tf.zeros([1, 1], tf.int32))
    before = nats_per_char(untrained, TEXT, seq_length=20)
    model, history, _ = train_char_lstm(
        TEXT, str(tmp_path), epochs=4, units=32, num_layers=1,
        seq_length=20, batch_size=16, learning_rate=1e-2, verbose=0,
        tensorboard=False)
    assert os.path.exists(tmp_path / "best.keras")
    assert min(history["val_loss"]) < 0.6 * before
    # Each epoch's training speed is logged with it.
    assert len(history["items_per_second"]) == 4
    assert all(rate > 0 for rate in history["items_per_second"])
    # The returned model is the best epoch's.
    best = min(history["val_loss"])
    valid = model.encode(TEXT[int(len(TEXT) * 0.9):])
    data = char_windows(valid, 20, 16, shuffle=False)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    assert model.evaluate(data, verbose=0) == pytest.approx(best, rel=1e-4)


def test_generation_is_seeded_and_greedy_is_top_1():
    model = small_model()
    a = model.generate("the ", 40, temperature=0.8, seed=3)
    b = model.generate("the ", 40, temperature=0.8, seed=3)
    c = model.generate("the ", 40, temperature=0.8, seed=4)
    assert a == b and a != c
    assert a.startswith("the ") and len(a) == 44
    assert set(a) <= set(TEXT)  # never a reserved id's placeholder
    greedy = model.generate("the ", 30, greedy=True)
    assert model.generate("the ", 30, top_k=1, seed=9) == greedy


def test_greedy_generation_follows_the_model_step_by_step():
    model = small_model(embedding_dim=0)  # one-hot inputs
    text = model.generate("fox", 12, greedy=True)
    ids = model.encode(text)
    logits = model(ids[None, :-1]).numpy()[0]
    reserved = 4
    chosen = reserved + np.argmax(logits[2:, reserved:], axis=-1)
    np.testing.assert_array_equal(chosen, ids[3:])


@pytest.mark.parametrize("kwargs, message", [
    ({"prime": "the ~"}, "not in the model's vocabulary"),
    ({"prime": "the", "temperature": 0.0}, "temperature"),
    ({"prime": "the", "top_k": 0}, "top_k"),
    ({"prime": "the", "length": -1}, "length"),
])
def test_generate_rejects_bad_arguments(kwargs, message):
    model = small_model()
    with pytest.raises(ValueError, match=message):
        model.generate(**kwargs)


def test_stream_windows_continue_each_row():
    ids = np.arange(1000)
    batches = list(stream_windows(ids, batch_size=4, seq_length=10))
    assert len(batches) == (999 // 4) // 10
    for (x0, y0), (x1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)
        np.testing.assert_array_equal(y0, x0 + 1)
    with pytest.raises(ValueError, match="too few"):
        stream_windows(np.arange(20), 4, 10)


def test_stateful_model_carries_state_across_batches():
    """Two stateful calls give what one call on the joined windows gives."""
    stateful = small_model(stateful=True)
    stateless = small_model()
    stateless.set_weights(stateful.get_weights())
    ids = stateful.encode(TEXT[:48]).reshape(2, 24)
    stateful.reset_states()
    first = stateful(ids[:, :12])
    second = stateful(ids[:, 12:])
    joined = stateless(ids)
    np.testing.assert_allclose(first, joined[:, :12], atol=1e-5)
    np.testing.assert_allclose(second, joined[:, 12:], atol=1e-5)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(ids[:, 12:]), stateless(ids[:, 12:]),
                               atol=1e-5)


def test_keras_round_trip_predicts_and_generates_the_same(tmp_path):
    model = small_model(dropout=0.1)
    path = str(tmp_path / "char.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    ids = model.encode("the lazy dog")[None]
    np.testing.assert_array_equal(model(ids), loaded(ids))
    assert loaded.generate("the", 30, seed=2) == model.generate("the", 30,
                                                                 seed=2)


def test_keras_layers_give_the_same_model_on_keras_lstm(tmp_path):
    """rnn="keras" swaps the fused layers for keras.layers.LSTM: with the
    same weights the two models compute the same logits, and the choice
    survives a .keras round trip."""
    ours = small_model()
    theirs = small_model(rnn="keras")
    # tfrnn's LSTM subclasses Keras's: compare exact types.
    assert type(theirs.recurrent[0]) is keras.layers.LSTM
    assert type(ours.recurrent[0]) is tfrnn.layers.LSTM
    theirs.set_weights(ours.get_weights())
    ids = ours.encode("the lazy dog")[None]
    np.testing.assert_allclose(ours(ids), theirs(ids), atol=1e-5)
    path = str(tmp_path / "keras_rnn.keras")
    theirs.save(path)
    assert keras.models.load_model(path).rnn == "keras"
    with pytest.raises(ValueError, match="rnn must be one of"):
        CharLSTM(CharLSTM.tokens_of(TEXT), rnn="cudnn")


def test_throughput_comparison_times_both_layers():
    rates = char_lstm_throughput(TEXT, batches=2, units=16, num_layers=1,
                                 embedding_dim=8, seq_length=20,
                                 batch_size=8)
    assert set(rates) == {"tfrnn", "keras"}
    assert all(rate > 0 for rate in rates.values())


def test_a_saved_model_loads_after_import_tfrnn_alone(tmp_path):
    """A fresh process that imports tfrnn (not tfrnn.zoo) loads a .keras
    file holding a CharLSTM: importing tfrnn registers the zoo."""
    path = str(tmp_path / "char.keras")
    small_model().save(path)
    script = ("import sys, keras, tfrnn\n"
              "model = keras.models.load_model(sys.argv[1])\n"
              "print(type(model).__name__)\n")
    proc = subprocess.run([sys.executable, "-c", script, path],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "CharLSTM"
