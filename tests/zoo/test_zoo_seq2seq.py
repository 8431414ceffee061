"""Seq2Seq (Luong / Bahdanau attention) and ConditionedGenerator: teacher
forcing vs step-wise decoding, greedy vs beam search, learning, .keras."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfrnn.data import END, PAD, START, Vocabulary
from tfrnn.zoo import ConditionedGenerator, Seq2Seq
from tfrnn.training.recipes import exact_match, train_seq2seq

LETTERS = list("abcdef")


def reverse_pairs(n, seed):
    rng = np.random.default_rng(seed)
    words = ["".join(rng.choice(LETTERS, size=rng.integers(1, 6)))
             for _ in range(n)]
    return [(w, w[::-1]) for w in words]


def untrained(attention, seed=0):
    keras.utils.set_random_seed(seed)
    model = Seq2Seq(LETTERS, LETTERS, units=16, embedding_dim=8,
                    attention=attention, max_decode_length=8)
    model((tf.zeros([1, 3], tf.int32), tf.zeros([1, 2], tf.int32)))
    return model


def sources(model, texts):
    return model.source_vocabulary.encode(texts).to_tensor()


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_greedy_decoding_follows_teacher_forcing(attention):
    """Each greedy token is the argmax of the teacher-forced logits given
    the tokens before it: the step path computes what the sequence path
    (fused op / scan) computes."""
    model = untrained(attention)
    src = sources(model, ["abc", "fed", "a", "ddddd"])
    out = model.greedy_decode(src).numpy()
    decoder_in = np.concatenate([np.full((4, 1), START), out[:, :-1]], 1)
    logits = model((src, decoder_in)).numpy()
    logits[:, :, [PAD, 1, START]] = -np.inf  # never chosen when decoding
    expected = logits.argmax(-1)
    running = np.cumsum(out == END, axis=1) - (out == END) == 0
    running &= out != PAD
    np.testing.assert_array_equal(out[running], expected[running])


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_beam_width_one_equals_greedy(attention):
    model = untrained(attention, seed=3)
    src = sources(model, ["abcdef", "b", "cafe", "bead", "ff"])
    np.testing.assert_array_equal(model.beam_search(src, beam_width=1),
                                  model.greedy_decode(src))


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_source_padding_does_not_change_the_logits(attention):
    model = untrained(attention)
    src = sources(model, ["abc", "de"])
    padded = tf.pad(src, [[0, 0], [0, 4]])
    decoder_in = tf.constant([[START, 4, 5], [START, 6, 6]])
    np.testing.assert_allclose(model((src, decoder_in)),
                               model((padded, decoder_in)), atol=1e-5)


def test_learns_to_reverse_and_beam_search_keeps_it(tmp_path):
    model, _, _ = train_seq2seq(
        reverse_pairs(4000, 0), reverse_pairs(200, 1), str(tmp_path),
        epochs=6, units=48, embedding_dim=16, learning_rate=1e-2, verbose=0,
        tensorboard=False)
    test = reverse_pairs(200, 2)
    srcs, tgts = [s for s, _ in test], [t for _, t in test]
    greedy = exact_match(model, srcs, tgts)
    assert greedy >= 0.9
    assert exact_match(model, srcs, tgts, beam_width=3) >= greedy - 0.02


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_keras_round_trip_decodes_the_same(attention, tmp_path):
    model = untrained(attention)
    src = sources(model, ["abc", "fedcba"])
    decoder_in = tf.constant([[START, 4], [START, 5]])
    model.save(tmp_path / "s2s.keras")
    loaded = keras.models.load_model(tmp_path / "s2s.keras")
    np.testing.assert_array_equal(model((src, decoder_in)),
                                  loaded((src, decoder_in)))
    np.testing.assert_array_equal(model.beam_search(src, 3),
                                  loaded.beam_search(src, 3))


def test_decoding_rejects_bad_arguments():
    model = untrained("luong")
    src = sources(model, ["abc"])
    with pytest.raises(ValueError, match="beam_width"):
        model.beam_search(src, beam_width=0)
    with pytest.raises(ValueError, match="max_length"):
        model.greedy_decode(src, max_length=0)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(src, temperature=-1.0)
    with pytest.raises(ValueError, match="attention"):
        Seq2Seq(LETTERS, LETTERS, attention="dot")


DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven",
          "eight", "nine"]


def test_conditioned_generator_learns_and_decodes_consistently(tmp_path):
    """One-hot class vectors -> the class's name."""
    keras.utils.set_random_seed(0)
    chars = sorted(set("".join(DIGITS)))
    vocab = Vocabulary(chars)
    model = ConditionedGenerator(chars, units=32, embedding_dim=8,
                                 max_decode_length=8)
    labels = np.arange(200) % 10
    features = np.eye(10, dtype=np.float32)[labels]
    ids = vocab.encode([DIGITS[i] for i in labels], add_start=True,
                       add_end=True).to_tensor().numpy()
    model.compile(keras.optimizers.Adam(2e-2),
                  keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True, ignore_class=PAD))
    model.fit((features, ids[:, :-1]), ids[:, 1:], batch_size=20, epochs=30,
              verbose=0)
    eye = np.eye(10, dtype=np.float32)
    assert model.generate(eye) == DIGITS
    np.testing.assert_array_equal(model.beam_search(eye, beam_width=1),
                                  model.greedy_decode(eye))
    assert model.to_strings(model.beam_search(eye, beam_width=3)) == DIGITS
    samples = model.generate(eye, greedy=False, temperature=0.5, seed=1)
    assert samples == model.generate(eye, greedy=False, temperature=0.5,
                                     seed=1)
    model.save(tmp_path / "gen.keras")
    loaded = keras.models.load_model(tmp_path / "gen.keras")
    assert loaded.generate(eye) == DIGITS
