"""SequenceClassifier: many-to-one. A sequence (token ids padded with 0, or
feature vectors) -> class logits, through a stacked recurrent encoder and
a masked summary of its outputs."""

import keras
import numpy as np
import tensorflow as tf

from tfrnn.data.vocab import RESERVED, Vocabulary
from tfrnn.layers.stacked import CELLS, StackedRNN
from tfrnn.zoo import arguments
from tfrnn.zoo.sampling import dummy_input
from tfrnn.zoo.signatures import classifier_signatures

POOLINGS = ("last", "mean", "max")


@keras.saving.register_keras_serializable(package="tfrnn")
class SequenceClassifier(keras.Model):
    """Recurrent sequence classifier.

    Args:
        num_classes: size of the logits.
        vocab_size: token inputs (int ids, 0 = padding, masked). None takes
            float feature inputs [B, T, F] instead (e.g. MNIST's 28 rows of
            28 pixels), unmasked: all rows run every step.
        embedding_dim: embedding size for token inputs.
        units, cell ("lstm"/"gru"/"rnn"), num_layers, bidirectional, dropout:
            the encoder (tfrnn.layers.StackedRNN; dropout between layers).
        pooling: "last" (the final state at each row's own length; both
            directions' finals when bidirectional), "mean" or "max" over the
            real steps.
        tokens, level: optional vocabulary (units of a tfrnn.data.Vocabulary)
            so that `classify_texts` and the exported signature take raw
            strings; sets vocab_size.

    >>> import numpy as np
    >>> model = SequenceClassifier(num_classes=3, vocab_size=20, units=8,
    ...                            cell="gru", bidirectional=True)
    >>> ids = np.array([[5, 6, 7, 0], [8, 9, 0, 0]])  # 0: padding
    >>> model(ids).shape
    TensorShape([2, 3])
    """

    def __init__(self, num_classes, vocab_size=None, embedding_dim=64,
                 units=128, cell="lstm", num_layers=1, bidirectional=False,
                 dropout=0.0, pooling="last", tokens=None, level="char",
                 **kwargs):
        super().__init__(**kwargs)
        self.tokens, self.level = (None if tokens is None else list(tokens),
                                   level)
        self.vocabulary = None
        if tokens is not None:
            self.vocabulary = Vocabulary(tokens, level=level)
            if vocab_size not in (None, self.vocabulary.size):
                raise ValueError(f"vocab_size {vocab_size} disagrees with the "
                                 f"{self.vocabulary.size} ids of tokens")
            vocab_size = self.vocabulary.size
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got "
                             f"{pooling!r}")
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got "
                             f"{cell!r}")
        arguments.integer("num_classes", num_classes, 2, 2 ** 31 - 1)
        if vocab_size is not None:
            arguments.integer("vocab_size", vocab_size, len(RESERVED) + 1,
                              2 ** 31 - 1)
        self.num_classes, self.vocab_size = num_classes, vocab_size
        self.embedding_dim, self.units, self.cell = embedding_dim, units, cell
        self.num_layers, self.bidirectional = num_layers, bidirectional
        self.dropout, self.pooling = dropout, pooling
        self.embedding = (keras.layers.Embedding(
            vocab_size, embedding_dim, mask_zero=True, name="embedding")
            if vocab_size else None)
        self.encoder = StackedRNN(
            units, cell=cell, num_layers=num_layers,
            bidirectional=bidirectional, dropout=dropout,
            return_sequences=pooling != "last", name="encoder")
        self.classify = keras.layers.Dense(num_classes, name="logits")

    def serving_signatures(self, **options):
        """What tfrnn.export saves for this model (tfrnn.zoo.signatures
        builds it): the signature classify (option:
        max_length)."""
        return classifier_signatures(self, **options)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "vocab_size": self.vocab_size,
                "embedding_dim": self.embedding_dim, "units": self.units,
                "cell": self.cell, "num_layers": self.num_layers,
                "bidirectional": self.bidirectional, "dropout": self.dropout,
                "pooling": self.pooling, "tokens": self.tokens,
                "level": self.level}

    def build(self, input_shape):
        """Creates the weights by running the model once on zeros."""
        dtype = tf.int32 if self.embedding is not None else self.compute_dtype
        self.call(dummy_input(input_shape, dtype))

    def call(self, inputs, training=False):
        """Logits [B, num_classes]."""
        if self.embedding is not None:
            inputs = tf.cast(inputs, tf.int32)
            x = self.embedding(inputs)
            mask = tf.not_equal(inputs, 0)
        else:
            x, mask = inputs, None
        h = self.encoder(x, mask=mask, training=training)
        if self.pooling != "last":
            h = masked_pool(h, mask, self.pooling)
        return self.classify(h)

    @property
    def feature_size(self):
        """Size of each input step: the embedding's, or the features'."""
        _, _, first = next(self.encoder.directions())
        return first.cell.kernel.shape[0]

    def classify_texts(self, texts):
        """Class probabilities [B, num_classes] of raw strings (needs
        tokens); units the vocabulary lacks read as its unknown id."""
        if self.vocabulary is None:
            raise ValueError("this classifier has no vocabulary (tokens)")
        texts = arguments.texts("texts", texts)
        if not texts:
            return np.zeros((0, self.num_classes), np.float32)
        ids = self.vocabulary.encode(tf.constant(texts, tf.string))
        # At least one (padding) step: an empty text reads as no input.
        ids = ids.to_tensor(shape=[len(texts), max(
            1, int(ids.bounding_shape()[1]))])
        return tf.nn.softmax(self(ids)).numpy()


def masked_pool(sequences, mask, how):
    """Mean or max of sequences [B, T, F] over the steps where mask [B, T]
    is True (all steps when mask is None); 0 for a row with none."""
    if mask is None:
        mask = tf.ones(tf.shape(sequences)[:2], tf.bool)
    keep = tf.cast(mask, sequences.dtype)[:, :, None]
    if how == "mean":
        count = tf.reduce_sum(keep, axis=1)
        return tf.reduce_sum(sequences * keep, axis=1) / tf.maximum(count, 1)
    lowest = tf.fill(tf.shape(sequences), sequences.dtype.min)
    pooled = tf.reduce_max(tf.where(mask[:, :, None], sequences, lowest),
                           axis=1)
    any_step = tf.reduce_any(mask, axis=1)[:, None]
    return tf.where(any_step, pooled, tf.zeros_like(pooled))

