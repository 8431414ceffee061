"""Vocabularies and language-model windows."""

import numpy as np
import pytest
import tensorflow as tf

from tfrnn.data import (END, OOV, PAD, START, Vocabulary,
                        language_model_windows, window_count)


def test_char_round_trip_with_unicode_and_empty_strings():
    texts = ["hello world", "héllo — ünïcode ✓", ""]
    vocab = Vocabulary.from_texts(texts)
    ids = vocab.encode(texts)
    assert isinstance(ids, tf.RaggedTensor)
    assert [t.decode() for t in vocab.decode(ids).numpy()] == texts


def test_token_round_trip_and_lowercase():
    vocab = Vocabulary.from_texts(["The cat sat", "the dog"], level="token",
                                  lowercase=True)
    assert vocab.decode(vocab.encode(["THE CAT", "dog sat"])).numpy().tolist() \
        == [b"the cat", b"dog sat"]


def test_reserved_ids_oov_start_end():
    vocab = Vocabulary.from_texts(["ab"])
    assert vocab.tokens[:4] == ["<pad>", "<unk>", "<s>", "</s>"]
    ids = vocab.encode("abz", add_start=True, add_end=True).numpy().tolist()
    assert ids[0] == START and ids[-1] == END and ids[3] == OOV
    assert PAD not in ids
    # decode stops at END, skips PAD/START, shows OOV as <unk>
    padded = tf.constant([[START, 4, 5, 1, END, 4, PAD, PAD]])
    assert vocab.decode(padded).numpy().tolist() == [b"ab<unk>"]


def test_markers_on_empty_rows_and_scalars():
    vocab = Vocabulary.from_texts(["xy"])
    ids = vocab.encode(["", "x"], add_start=True, add_end=True)
    assert ids.to_list() == [[START, END], [START, 4, END]]
    assert vocab.encode("", add_end=True).numpy().tolist() == [END]


def test_encode_runs_in_graph_inside_tf_data():
    vocab = Vocabulary.from_texts(["abc"])
    data = tf.data.Dataset.from_tensor_slices(["abc", "cab", "zz"])
    encoded = [x.numpy().tolist() for x in data.map(vocab.encode)]
    assert encoded == [[4, 5, 6], [6, 4, 5], [OOV, OOV]]


def test_same_texts_give_same_ids_and_config_round_trip():
    texts = ["to be or not to be", "that is the question"]
    a, b = Vocabulary.from_texts(texts), Vocabulary.from_texts(texts)
    assert a.tokens == b.tokens
    c = Vocabulary(**a.get_config())
    assert c.encode(texts).to_list() == a.encode(texts).to_list()


def test_bad_vocabularies_are_rejected():
    with pytest.raises(ValueError, match="reserved"):
        Vocabulary(["a", "<pad>"])
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(["a", "a"])
    with pytest.raises(ValueError, match="single characters"):
        Vocabulary(["ab"], level="char")
    with pytest.raises(ValueError, match="level"):
        Vocabulary(["a"], level="word")


def test_one_array_shorter_than_a_window_is_an_error():
    """A whole corpus too short for one window would train on nothing; a
    dataset's short documents are skipped (windows never cross them)."""
    with pytest.raises(ValueError, match="too few for one window of "
                                         "seq_length \\+ 1 = 6"):
        language_model_windows(np.arange(1, 6, dtype=np.int32), 5, 1)
    assert window_count(5, 5, 1) == 0


@pytest.mark.parametrize("length,seq_length,stride", [
    (20, 5, 5), (20, 5, 3), (6, 5, 5), (21, 5, 5), (100, 7, 1)])
def test_windows_exact_at_boundaries(length, seq_length, stride):
    ids = np.arange(1, length + 1, dtype=np.int32)
    windows = list(language_model_windows(ids, seq_length, stride))
    assert len(windows) == window_count(length, seq_length, stride)
    for k, (inputs, targets) in enumerate(windows):
        start = k * stride
        np.testing.assert_array_equal(inputs, ids[start:start + seq_length])
        np.testing.assert_array_equal(targets,
                                      ids[start + 1:start + seq_length + 1])
    if windows:  # the next window would not fit
        assert (len(windows) * stride + seq_length + 1) > length


def test_windows_never_cross_documents():
    docs = [np.arange(1, 12), np.arange(101, 109), np.arange(201, 204)]
    data = tf.data.Dataset.from_generator(
        lambda: iter(docs), output_signature=tf.TensorSpec([None], tf.int64))
    windows = list(language_model_windows(data, 4, stride=2))
    assert len(windows) == sum(window_count(len(d), 4, 2) for d in docs)
    for inputs, targets in windows:
        both = np.concatenate([inputs, targets])
        assert len(set(both // 100)) == 1  # one document's ids only


def test_window_arguments_are_checked():
    with pytest.raises(ValueError):
        language_model_windows(np.arange(10), 0)
    with pytest.raises(ValueError):
        language_model_windows(np.arange(10), 3, stride=0)
