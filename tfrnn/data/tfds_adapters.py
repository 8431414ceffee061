"""Adapters from tensorflow-datasets (and local text files) to batches the
tfrnn layers and zoo models train on.

Each adapter takes the dataset as tfds names it (`tfds.load(name, split)`)
and returns a tf.data pipeline: texts encoded in-graph by a `Vocabulary`,
right-padded with PAD (0) and bucketed by length where lengths vary.
tensorflow_datasets is imported only when a tfds adapter is called.
"""

import numpy as np
import tensorflow as tf

from tfrnn.data.bucketing import bucket_by_length, bucket_boundaries
from tfrnn.data.vocab import Vocabulary
from tfrnn.data.windows import language_model_windows

AUTOTUNE = tf.data.AUTOTUNE


def tfds_load(name, split, **kwargs):
    """`tfds.load(name, split=split)` with tensorflow_datasets imported late."""
    import tensorflow_datasets as tfds
    return tfds.load(name, split=split, **kwargs)


def text_documents(name="tiny_shakespeare", split="train", text_key="text",
                   **load_kwargs):
    """A tfds text dataset as a dataset of strings, one per document."""
    return tfds_load(name, split, **load_kwargs).map(
        lambda example: example[text_key])


def text_file_documents(path, validation_fraction=0.1):
    """A local UTF-8 text file as (train, validation) one-document datasets,
    split by characters (the last `validation_fraction` validates)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    cut = int(len(text) * (1.0 - validation_fraction))
    return (tf.data.Dataset.from_tensors(text[:cut]),
            tf.data.Dataset.from_tensors(text[cut:]))


def char_language_model(documents, vocab, seq_length, batch_size,
                        stride=None, shuffle_buffer=10_000, seed=0):
    """Documents (strings) -> batches of (inputs, next-char targets).

    Windows never cross documents; batches are full (drop_remainder) so a
    stateful model sees a constant batch size. shuffle_buffer=0 keeps order.
    """
    if not isinstance(documents, tf.data.Dataset):
        raise TypeError(f"documents must be a tf.data.Dataset of strings "
                        f"(e.g. tf.data.Dataset.from_tensor_slices(texts)), "
                        f"got {type(documents).__name__}")
    ids = documents.map(vocab.encode, num_parallel_calls=AUTOTUNE)
    windows = language_model_windows(ids, seq_length, stride)
    if shuffle_buffer:
        windows = windows.shuffle(shuffle_buffer, seed=seed)
    return windows.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def sequence_lengths(dataset, length_fn, limit=None):
    """Lengths of up to `limit` examples (for choosing bucket boundaries)."""
    if limit is not None:
        dataset = dataset.take(limit)
    return np.array([int(n) for n in dataset.map(length_fn)])


def text_classification(examples, vocab, batch_size, max_length=None,
                        num_buckets=8, text_key="text", label_key="label"):
    """{text, label} examples -> bucketed (ids, label) batches.

    Texts longer than max_length keep their first max_length units.
    """
    def encode(example):
        ids = vocab.encode(example[text_key])
        if max_length is not None:
            ids = ids[:max_length]
        return ids, tf.cast(example[label_key], tf.int32)

    encoded = examples.map(encode, num_parallel_calls=AUTOTUNE)
    lengths = sequence_lengths(encoded, lambda ids, _: tf.shape(ids)[0])
    return bucket_by_length(encoded, batch_size,
                            bucket_boundaries(lengths, num_buckets))


def imdb_reviews(split, vocab, batch_size, max_length=400, **load_kwargs):
    """IMDB sentiment as bucketed (token ids, label) batches."""
    return text_classification(tfds_load("imdb_reviews", split, **load_kwargs),
                               vocab, batch_size, max_length)


def mnist_rows(split, batch_size, **load_kwargs):
    """MNIST as sequences: 28 steps of 28 pixels in [0, 1], and the label."""
    def rows(example):
        image = tf.cast(example["image"][..., 0], tf.float32) / 255.0
        return image, tf.cast(example["label"], tf.int32)

    return (tfds_load("mnist", split, **load_kwargs)
            .map(rows, num_parallel_calls=AUTOTUNE).batch(batch_size))


def translation_pairs(name="ted_hrlr_translate/pt_to_en", split="train",
                      source="pt", target="en", **load_kwargs):
    """A tfds translation set as (source text, target text) pairs."""
    return tfds_load(name, split, **load_kwargs).map(
        lambda example: (example[source], example[target]))


def seq2seq_batches(pairs, source_vocab, target_vocab, batch_size,
                    num_buckets=8, max_length=None):
    """(source text, target text) -> ((source ids, decoder inputs), decoder
    targets), bucketed by source length.

    Decoder inputs start with START; decoder targets end with END (teacher
    forcing): both are the target ids shifted against each other.
    """
    def encode(source, target):
        src = source_vocab.encode(source)
        tgt = target_vocab.encode(target, add_start=True, add_end=True)
        if max_length is not None:
            src, tgt = src[:max_length], tgt[:max_length + 1]
        return src, tgt[:-1], tgt[1:]

    encoded = pairs.map(encode, num_parallel_calls=AUTOTUNE)
    lengths = sequence_lengths(encoded, lambda src, *_: tf.shape(src)[0])
    batches = bucket_by_length(encoded, batch_size,
                               bucket_boundaries(lengths, num_buckets))
    return batches.map(lambda src, dec_in, dec_out: ((src, dec_in), dec_out))


def vocabulary_from_dataset(texts, level="char", limit=None, **kwargs):
    """A Vocabulary built from a dataset of strings (up to `limit` of them)."""
    if limit is not None:
        texts = texts.take(limit)
    return Vocabulary.from_texts((t.numpy() for t in texts), level=level,
                                 **kwargs)
