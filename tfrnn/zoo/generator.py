"""ConditionedGenerator: one-to-many. A conditioning vector (image
features, a class embedding, ...) sets the initial state of an LSTM decoder
that writes a sequence, as in show-and-tell captioning (Vinyals et al.
2015)."""

import keras
import tensorflow as tf

from tfrnn.data.vocab import Vocabulary
from tfrnn.layers.lstm import LSTM
from tfrnn.zoo.decoding import Decoding
from tfrnn.zoo.sampling import dummy_input
from tfrnn.zoo.signatures import generator_signatures


@keras.saving.register_keras_serializable(package="tfrnn")
class ConditionedGenerator(Decoding, keras.Model):
    """features [B, F] -> token sequence.

    Training is teacher forcing: `model((features, decoder_input_ids))` ->
    logits [B, T, V] (decoder inputs start with START, padded with 0).
    Decoding: `generate` (strings, greedy or sampled), and the ids of
    `greedy_decode`, `sample` and `beam_search` (tfrnn.zoo.decoding).

    Args:
        target_tokens: the output vocabulary's units (ids 4.. in order).
        level: "char" or "token".
        embedding_dim, units: decoder sizes.
        max_decode_length: default output limit.

    >>> import numpy as np
    >>> model = ConditionedGenerator(list("xyz"), units=8, embedding_dim=4,
    ...                              max_decode_length=6)
    >>> texts = model.generate(np.ones((2, 3), "float32"))
    >>> len(texts), all(len(t) <= 6 for t in texts)
    (2, True)
    """

    def __init__(self, target_tokens, level="char", embedding_dim=32,
                 units=128, max_decode_length=50, **kwargs):
        super().__init__(**kwargs)
        self.target_vocabulary = Vocabulary(target_tokens, level=level)
        self.target_tokens, self.level = list(target_tokens), level
        self.embedding_dim, self.units = embedding_dim, units
        self.max_decode_length = max_decode_length
        self.initial_h = keras.layers.Dense(units, activation="tanh",
                                            name="initial_h")
        self.initial_c = keras.layers.Dense(units, name="initial_c")
        self.embedding = keras.layers.Embedding(
            self.target_vocabulary.size, embedding_dim, name="embedding")
        self.decoder = LSTM(units, return_sequences=True, name="decoder")
        self.logits = keras.layers.Dense(self.target_vocabulary.size,
                                         name="logits")

    def serving_signatures(self, **options):
        """What tfrnn.export saves for this model (tfrnn.zoo.signatures
        builds it): the signature generate."""
        return generator_signatures(self, **options)

    def get_config(self):
        return {**super().get_config(), "target_tokens": self.target_tokens,
                "level": self.level, "embedding_dim": self.embedding_dim,
                "units": self.units,
                "max_decode_length": self.max_decode_length}

    def build(self, input_shape):
        """Creates the weights by running the model once on zeros."""
        features_shape, target_shape = input_shape
        self.call((dummy_input(features_shape, self.compute_dtype),
                   dummy_input(target_shape, tf.int32)))

    def encode(self, features):
        """No memory; the initial decoder state [h, c] from the features."""
        features = tf.cast(features, self.compute_dtype)
        return (), [self.initial_h(features), self.initial_c(features)]

    def call(self, inputs, training=False):
        features, decoder_ids = inputs
        _, state = self.encode(features)
        h = self.decoder(self.embedding(tf.cast(decoder_ids, tf.int32)),
                         initial_state=state, training=training)
        return self.logits(h)

    def step(self, tokens, state, memory):
        """Decoder step for ids [N] -> (log-probabilities [N, V], state)."""
        h, state = self.decoder.cell(self.embedding(tokens), state,
                                     training=False)
        return tf.nn.log_softmax(tf.cast(self.logits(h), tf.float32)), state

    def _decoder_inputs(self, features):
        """Features [B, F] of the width the model was built with."""
        features = tf.convert_to_tensor(features)
        if not (features.dtype.is_floating or features.dtype.is_integer):
            raise TypeError(f"features must be numbers, got "
                            f"{features.dtype.name}")
        width = (self.initial_h.kernel.shape[0] if self.initial_h.built
                 else None)
        if features.shape.rank != 2 or width not in (None,
                                                     features.shape[1]):
            raise ValueError(f"features must be [B, {width or 'F'}], got "
                             f"shape {features.shape.as_list()}")
        return tf.cast(features, self.compute_dtype)

    def generate(self, features, greedy=True, temperature=1.0, top_k=None,
                 seed=0, max_length=None):
        """Features [B, F] -> B strings, greedy or sampled."""
        if greedy:
            ids = self.greedy_decode(features, max_length)
        else:
            ids = self.sample(features, temperature, top_k, seed, max_length)
        return self.to_strings(ids)
