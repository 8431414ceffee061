"""tfds adapters (offline, under tfds.testing.mock_data), the local
tinyshakespeare text, and the synthetic tasks."""

import datetime
import os

import numpy as np
import pytest
import tensorflow as tf

from tfrnn.data import PAD, START, END, Vocabulary, synthetic
from tfrnn.data import tfds_adapters as adapters
from paths import ROOT

tfds = pytest.importorskip("tensorflow_datasets")
SHAKESPEARE = os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare.txt")


@pytest.fixture
def mock_tfds():
    with tfds.testing.mock_data(num_examples=12,
                                policy=tfds.testing.MockPolicy.USE_CODE):
        yield


def test_tiny_shakespeare_char_lm_under_mock_data(mock_tfds):
    docs = adapters.text_documents("tiny_shakespeare", "train")
    vocab = adapters.vocabulary_from_dataset(docs)
    batches = adapters.char_language_model(docs, vocab, seq_length=8,
                                           batch_size=4)
    inputs, targets = next(iter(batches))
    assert inputs.shape == targets.shape == (4, 8)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])


def test_imdb_reviews_bucketed_under_mock_data(mock_tfds):
    texts = adapters.tfds_load("imdb_reviews", "train").map(lambda e: e["text"])
    vocab = adapters.vocabulary_from_dataset(texts, level="token")
    count = 0
    for ids, labels in adapters.imdb_reviews("train", vocab, batch_size=5,
                                             max_length=50):
        assert ids.dtype == tf.int32 and ids.shape[1] <= 50
        assert labels.shape == (ids.shape[0],)
        count += ids.shape[0]
    assert count == 12


def test_mnist_rows_under_mock_data(mock_tfds):
    images, labels = next(iter(adapters.mnist_rows("train", batch_size=6)))
    assert images.shape == (6, 28, 28) and images.dtype == tf.float32
    low, high = float(tf.reduce_min(images)), float(tf.reduce_max(images))
    assert 0.0 <= low <= high <= 1.0
    assert labels.shape == (6,)


def test_translation_pairs_to_seq2seq_batches_under_mock_data(mock_tfds):
    pairs = adapters.translation_pairs("ted_hrlr_translate/pt_to_en", "train",
                                       source="pt", target="en")
    source_vocab = adapters.vocabulary_from_dataset(pairs.map(lambda s, t: s))
    target_vocab = adapters.vocabulary_from_dataset(pairs.map(lambda s, t: t))
    count = 0
    for (src, dec_in), dec_out in adapters.seq2seq_batches(
            pairs, source_vocab, target_vocab, batch_size=4):
        assert dec_in.shape == dec_out.shape
        assert (dec_in[:, 0].numpy() == START).all()
        # Teacher forcing: each target is the next decoder input (up to END,
        # after which the inputs are padding).
        out = dec_out.numpy()
        follows = ((out != PAD) & (out != END))[:, :-1]
        np.testing.assert_array_equal(dec_in.numpy()[:, 1:][follows],
                                      out[:, :-1][follows])
        ends = (dec_out.numpy() == END).sum(axis=1)
        assert (ends == 1).all()
        count += src.shape[0]
    assert count == 12


@pytest.mark.skipif(not os.path.exists(SHAKESPEARE),
                    reason="../shared/data/tinyshakespeare.txt not present")
def test_local_tinyshakespeare_text():
    train, valid = adapters.text_file_documents(SHAKESPEARE, 0.1)
    train_text = next(iter(train)).numpy().decode()
    valid_text = next(iter(valid)).numpy().decode()
    assert len(train_text) + len(valid_text) == 1_115_394
    vocab = Vocabulary.from_texts([train_text])
    assert vocab.size == 4 + 65  # tinyshakespeare has 65 distinct characters
    batches = adapters.char_language_model(valid, vocab, 100, 32)
    windows = sum(int(x.shape[0]) for x, _ in batches)
    assert windows == (len(valid_text) - 101) // 100 + 1 - (
        ((len(valid_text) - 101) // 100 + 1) % 32)
    x, _ = next(iter(adapters.char_language_model(valid, vocab, 100, 32,
                                                  shuffle_buffer=0)))
    assert vocab.decode(x[:1]).numpy()[0].decode() == valid_text[:100]


def test_shuffled_pipeline_is_deterministic_with_a_seed():
    vocab = Vocabulary.from_texts(["abcdefgh"])
    docs = tf.data.Dataset.from_tensors("abcdefgh" * 50)

    def first(seed):
        batches = adapters.char_language_model(docs, vocab, 5, 4, seed=seed)
        return next(iter(batches))[0].numpy()

    np.testing.assert_array_equal(first(1), first(1))
    assert not np.array_equal(first(1), first(2))


def test_adding_problem():
    x, y = synthetic.adding_problem(50, 20, seed=3)
    assert x.shape == (50, 20, 2) and (x[..., 1].sum(1) == 2).all()
    np.testing.assert_allclose(y, (x[..., 0] * x[..., 1]).sum(1), rtol=1e-6)
    x2, _ = synthetic.adding_problem(50, 20, seed=3)
    np.testing.assert_array_equal(x, x2)


@pytest.mark.parametrize("reverse", [False, True])
def test_copy_task(reverse):
    src, tgt, lengths = synthetic.copy_task(20, 9, reverse=reverse, seed=1,
                                            variable_length=True)
    for s, t, n in zip(src, tgt, lengths):
        expected = s[:n][::-1] if reverse else s[:n]
        np.testing.assert_array_equal(t[:n], expected)
        assert not s[n:].any() and not t[n:].any() and (s[:n] >= 4).all()


def test_integer_addition():
    questions, answers = synthetic.integer_addition(200, max_digits=3, seed=0)
    for q, a in zip(questions, answers):
        left, right = q.split("+")
        assert int(left) + int(right) == int(a) and len(left) <= 3
    assert synthetic.integer_addition(5, seed=4) == \
        synthetic.integer_addition(5, seed=4)


def test_date_normalization_forms_parse_to_their_iso_date():
    written, iso = synthetic.date_normalization(300, seed=0)
    assert len(set(written)) > 250
    forms = {"%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y",
             "%A, %B %d, %Y", "%a %d %b %Y", "%B %d %Y", "%d.%m.%Y",
             "%Y/%m/%d", "%d %B, %Y", "%Y %B %d", "%b. %d %Y"}
    for text, date in zip(written, iso):
        parsed = set()
        for form in forms:
            try:
                parsed.add(
                    datetime.datetime.strptime(text.title(), form).date())
            except ValueError:
                pass
        assert parsed == {datetime.date.fromisoformat(date)}, text
    assert synthetic.date_normalization(10, seed=1) == \
        synthetic.date_normalization(10, seed=1)


def test_synthetic_tasks_as_datasets():
    question, answer = next(iter(synthetic.dataset("integer_addition", 4,
                                                   seed=2)))
    assert (question.numpy().decode(), answer.numpy().decode()) == tuple(
        x[0] for x in synthetic.integer_addition(4, seed=2))
    x, y = next(iter(synthetic.dataset("adding_problem", 3, length=5)))
    assert x.shape == (5, 2) and y.shape == ()
    with pytest.raises(ValueError, match="unknown task"):
        synthetic.dataset("sorting", 3)
