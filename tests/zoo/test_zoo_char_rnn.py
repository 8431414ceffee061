"""The character model as the CS20 notes build it: stacks of any cell and
per-layer sizes (CharRNN / CharLSTM), per-line training (START line END,
bucketed, the loss masked on the padding), generation that ends by itself
in-process and served, and the .keras files of before."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfrnn.app import cli
from tfrnn.data.vocab import END, PAD, RESERVED, START
from tfrnn.export import export_for_serving
from tfrnn.training.recipes import line_datasets, text_lines, train_char_lstm
from tfrnn.zoo import CharLSTM, CharRNN
from paths import FIXTURES

NAMES = ["anna", "bob", "clara", "dan", "eve", "frank", "gina", "hal",
         "ivy", "jon", "kate", "leo", "mia", "ned", "olga", "pat"]


def built(model):
    model(tf.zeros([1, 3], tf.int32))
    return model


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_stacks_of_any_cell_and_sizes(cell):
    model = built(CharRNN(list("ab "), units=[4, 6, 8], cell=cell))
    assert model.layer_units == [4, 6, 8] and model.num_layers == 3
    assert [layer.units for layer in model.recurrent] == [4, 6, 8]
    per_layer = 2 if cell == "lstm" else 1
    assert [s.shape[1] for s in model.zero_states(2)] == \
        [n for n in (4, 6, 8) for _ in range(per_layer)]
    text = model.generate("ab", 7, seed=1)
    assert text.startswith("ab") and len(text) == 9
    assert built(CharLSTM(list("ab"), units=5, num_layers=3)).layer_units \
        == [5, 5, 5]


@pytest.mark.parametrize("kwargs,message", [
    ({"units": [8, 16], "num_layers": 3}, "disagrees"),
    ({"units": []}, "at least one"),
    ({"units": [8, 0]}, r"each of units must be in"),
    ({"cell": "transformer"}, "cell must be one of")])
def test_bad_stacks(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CharRNN(list("ab"), **kwargs)


def test_keras_files_of_before_load_and_generate_as_before():
    """A 2 x 8 CharLSTM saved by the version before cells and sizes
    (tests/fixtures/char_lstm_before_cells.keras), and what it generated
    then."""
    model = keras.models.load_model(
        os.path.join(FIXTURES, "char_lstm_before_cells.keras"))
    assert model.cell == "lstm" and model.layer_units == [8, 8]
    assert model.generate("ab", 12, seed=3) == "abcc a bca  cc"


@pytest.mark.parametrize("cls", [CharRNN, CharLSTM])
def test_new_models_round_trip(tmp_path, cls):
    model = built(cls(list("abc "), units=[8, 16], cell="gru"))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is cls and loaded.layer_units == [8, 16]
    ids = tf.constant([[4, 5, 6]])
    np.testing.assert_allclose(loaded(ids), model(ids), rtol=1e-6)
    assert loaded.generate("", 20, seed=2, until_end=True) == \
        model.generate("", 20, seed=2, until_end=True)


def ending_model(bias):
    """A GRU CharRNN whose END logit carries `bias`."""
    keras.utils.set_random_seed(0)
    model = built(CharRNN(list("abc "), units=[8], cell="gru"))
    weights = model.logits.get_weights()
    weights[1][END] = bias
    model.logits.set_weights(weights)
    return model


def greedy_line(model, prime, length):
    """Step by step: START, the prime, then the argmax over the characters
    and END, until END."""
    states = model.zero_states(1)
    ids = [START] + list(model.encode(prime))
    for i in ids[:-1]:
        _, states = model.step(tf.constant([i]), states)
    current, out = ids[-1], []
    for _ in range(length):
        logits, states = model.step(tf.constant([current]), states)
        logits = logits.numpy()[0]
        logits[[PAD, 1, START]] = -np.inf
        current = int(np.argmax(logits))
        if current == END:
            break
        out.append(current)
    return prime + model.decode(out)


@pytest.mark.parametrize("bias", [-5.0, 0.5, 1.2, 50.0])
def test_until_end_stops_where_the_model_ends(bias):
    model = ending_model(bias)
    for prime in ("ab", ""):
        want = greedy_line(model, prime, 30)
        got = model.generate(prime, 30, greedy=True, until_end=True)
        assert got == want
    assert model.generate("ab", 0, until_end=True) == "ab"
    # Without until_end END is never emitted: always `length` characters.
    assert len(model.generate("ab", 12, seed=1)) == 14
    assert "\n" not in model.generate("", 12, seed=1, until_end=True)


def test_line_samples_are_start_text_end_bucketed_and_held_out():
    model = built(CharRNN(CharRNN.tokens_of("".join(NAMES)), units=[4]))
    train, valid, steps, chars = line_datasets(model, NAMES, batch_size=3,
                                               seed=1)
    seen = []
    for inputs, targets in train(0):
        inputs, targets = inputs.numpy(), targets.numpy()
        assert (inputs[:, 0] == START).all()
        for x, y in zip(inputs, targets):
            real = y[y != PAD]
            assert real[-1] == END and (y[len(real):] == PAD).all()
            np.testing.assert_array_equal(x[1:len(real)], real[:-1])
            seen.append(model.decode(real[:-1]))
    held = [model.decode(y.numpy()[y.numpy() != PAD][:-1])
            for _, ys in valid for y in ys]
    assert sorted(seen + held) == sorted(NAMES) and len(held) == 1
    assert steps == sum(1 for _ in train(0)) and chars > 0
    other = [model.decode(y[y != PAD][:-1])
             for _, ys in train(1) for y in ys.numpy()]
    assert sorted(other) == sorted(seen)  # every epoch, every line once
    assert text_lines("  a \n\n b\n") == ["a", "b"]
    with pytest.raises(ValueError, match="too few"):
        line_datasets(model, ["a"], batch_size=2)


def test_per_line_training_learns_to_end_lines(tmp_path):
    """A GRU 16 + 32 stack trained per line on names: the loss falls and
    temperature-0.8 samples end by themselves."""
    text = "\n".join(NAMES * 8)
    model, history, _ = train_char_lstm(
        text, str(tmp_path), epochs=12, units=[16, 32], cell="gru",
        lines=True, batch_size=16, learning_rate=2e-2, verbose=0,
        tensorboard=False)
    assert history["val_loss"][-1] < 0.6 * history["val_loss"][0]
    assert model.layer_units == [16, 32] and model.cell == "gru"
    longest = max(map(len, NAMES))
    samples = [model.generate("", 2 * longest, temperature=0.8, seed=s,
                              until_end=True) for s in range(20)]
    assert sum(len(t) < 2 * longest for t in samples) >= 18, samples


def test_cli_trains_per_line_and_generates_until_end(tmp_path, capsys):
    corpus = tmp_path / "names.txt"
    corpus.write_text("\n".join(NAMES * 4) + "\n", encoding="utf-8")
    workdir = tmp_path / "run"
    assert cli.main(["train", "charlstm", "--text", str(corpus), "--lines",
                     "--cell", "gru", "--units", "8", "16", "--workdir",
                     str(workdir), "--export-dir", "", "--epochs", "2",
                     "--batch-size", "8", "--sample-length", "20",
                     "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "of 100 samples (temperature 0.8) ended by themselves within 10 " \
        "characters (twice the longest line)" in out
    model = str(workdir / "best.keras")
    assert cli.main(["generate", model, "--until-end", "--length", "30",
                     "--seed", "1"]) == 0
    line = capsys.readouterr().out
    assert keras.models.load_model(model).generate(
        "", 30, seed=1, until_end=True) + "\n" == line


def test_served_generate_until_end_matches_in_process(tmp_path):
    model = ending_model(0.8)
    path = export_for_serving(model, str(tmp_path), "names")
    served = tf.saved_model.load(path).signatures["generate_until_end"]
    for prompt in ("ab", ""):
        out = served(prompt=tf.constant([prompt]),
                     max_length=tf.constant(30),
                     temperature=tf.constant(0.8),
                     seed=tf.constant(5, tf.int64))
        want = model.generate(prompt, 30, temperature=0.8, seed=5,
                              until_end=True)
        assert out["text"].numpy()[0].decode() == want
        assert bool(out["ended"].numpy()[0]) == (len(want) < len(prompt) + 30)
    assert len(RESERVED) == 4
