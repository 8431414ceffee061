"""Seq2Seq: an LSTM encoder-decoder with attention (many-to-many).

Training is teacher forcing: `model((source_ids, decoder_input_ids))` gives
the logits of every next target id. Decoding (`greedy_decode`, `sample`,
`beam_search`, `translate` for strings; see tfrnn.zoo.decoding) is a
tf.while_loop of stock TensorFlow ops around the decoder's step, so it
runs inside a traced or exported graph.

Attention (scores masked to the source's real steps):
- "luong" (Luong et al. 2015, "general" score h_t^T W a_s, no input
  feeding): the decoder LSTM runs the whole target in one fused op and the
  attention for all steps is two batched matmuls. Output
  tanh(W_c [context; h_t]).
- "bahdanau" (Bahdanau et al. 2015, additive score
  v^T tanh(W_q h_{t-1} + W_k a_s)): the context computed from the previous
  state feeds the step's input, so training loops over the steps.
"""

import keras
import numpy as np
import tensorflow as tf

from tfrnn.data.vocab import PAD, Vocabulary
from tfrnn.layers.lstm import LSTM
from tfrnn.zoo import arguments
from tfrnn.zoo.decoding import NEG, Decoding
from tfrnn.zoo.sampling import dummy_input
from tfrnn.zoo.signatures import seq2seq_signatures

ATTENTIONS = ("luong", "bahdanau")


def _masked_softmax(scores, source_mask):
    """Softmax over the last axis of scores [N, T, S], source_mask [N, S]."""
    scores = tf.where(source_mask[:, None, :], scores,
                      tf.cast(NEG, scores.dtype))
    return tf.nn.softmax(scores, axis=-1)


@keras.saving.register_keras_serializable(package="tfrnn")
class Seq2Seq(Decoding, keras.Model):
    """LSTM encoder-decoder with Luong or Bahdanau attention.

    Args:
        source_tokens, target_tokens: the vocabularies' units (ids 4.. in
            order; 0-3 are pad, unknown, start, end), as
            `tfrnn.data.Vocabulary.get_config()["tokens"]`.
        level: "char" or "token" for both vocabularies.
        embedding_dim, units: embedding and LSTM sizes.
        attention: "luong" or "bahdanau".
        max_decode_length: default output limit of the decoders.

    >>> model = Seq2Seq(list("abc"), list("abc"), units=8, embedding_dim=4,
    ...                 max_decode_length=5)
    >>> [len(t) <= 5 for t in model.translate(["abc", "ca"], beam_width=2)]
    [True, True]
    """

    def __init__(self, source_tokens, target_tokens, level="char",
                 embedding_dim=64, units=128, attention="luong",
                 max_decode_length=50, **kwargs):
        super().__init__(**kwargs)
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got "
                             f"{attention!r}")
        arguments.length("max_decode_length", max_decode_length, 1)
        self.source_vocabulary = Vocabulary(source_tokens, level=level)
        self.target_vocabulary = Vocabulary(target_tokens, level=level)
        self.source_tokens, self.target_tokens = list(source_tokens), list(
            target_tokens)
        self.level, self.embedding_dim, self.units = level, embedding_dim, \
            units
        self.attention, self.max_decode_length = attention, max_decode_length
        vocab = self.target_vocabulary.size
        self.source_embedding = keras.layers.Embedding(
            self.source_vocabulary.size, embedding_dim, name="source_embedding")
        self.target_embedding = keras.layers.Embedding(
            vocab, embedding_dim, name="target_embedding")
        self.encoder = LSTM(units, return_sequences=True, return_state=True,
                            name="encoder")
        self.decoder = LSTM(units, return_sequences=True, return_state=True,
                            name="decoder")
        if attention == "luong":
            self.score_weights = keras.layers.Dense(units, use_bias=False,
                                                    name="score")
        else:
            self.query_weights = keras.layers.Dense(units, use_bias=False,
                                                    name="query")
            self.key_weights = keras.layers.Dense(units, use_bias=False,
                                                  name="key")
            self.score_vector = keras.layers.Dense(1, use_bias=False,
                                                   name="score")
        self.attentional = keras.layers.Dense(units, activation="tanh",
                                              name="attentional")
        self.logits = keras.layers.Dense(vocab, name="logits")

    def serving_signatures(self, **options):
        """What tfrnn.export saves for this model (tfrnn.zoo.signatures
        builds it): the signature translate (option:
        max_source_length)."""
        return seq2seq_signatures(self, **options)

    def get_config(self):
        return {**super().get_config(), "source_tokens": self.source_tokens,
                "target_tokens": self.target_tokens, "level": self.level,
                "embedding_dim": self.embedding_dim, "units": self.units,
                "attention": self.attention,
                "max_decode_length": self.max_decode_length}

    def build(self, input_shape):
        """Creates the weights by running the model once on zeros."""
        source_shape, target_shape = input_shape
        self.call((dummy_input(source_shape, tf.int32),
                   dummy_input(target_shape, tf.int32)))

    # -- encoder and attention -------------------------------------------

    def encode(self, source_ids):
        """Memory for the decoder: (encoder outputs [B,S,H], keys, source
        mask [B,S]) and the initial decoder state [h, c]."""
        source_ids = tf.cast(source_ids, tf.int32)
        mask = tf.not_equal(source_ids, PAD)
        outputs, h, c = self.encoder(self.source_embedding(source_ids),
                                     mask=mask)
        if self.attention == "luong":
            keys = self.score_weights(outputs)
        else:
            keys = self.key_weights(outputs)
        return (outputs, keys, mask), [h, c]

    def _context(self, queries, memory):
        """Attention contexts [N, T, H] for decoder queries [N, T, H]."""
        outputs, keys, mask = memory
        if self.attention == "luong":
            scores = tf.matmul(queries, keys, transpose_b=True)
        else:
            hidden = tf.tanh(self.query_weights(queries)[:, :, None, :]
                             + keys[:, None, :, :])
            scores = tf.squeeze(self.score_vector(hidden), -1)
        return tf.matmul(_masked_softmax(scores, mask), outputs)

    def _bahdanau_step(self, embedded, state, memory):
        """One decoder step: the context from the previous state joins the
        input. -> (pre-logits [N, H], new state)."""
        context = self._context(state[0][:, None, :], memory)[:, 0]
        h, (h, c) = self.decoder.cell(
            tf.concat([embedded, context], axis=-1), state, training=False)
        return self.attentional(tf.concat([context, h], -1)), [h, c]

    # -- teacher forcing ---------------------------------------------------

    def call(self, inputs, training=False):
        """(source_ids [B,S], decoder_input_ids [B,T]) -> logits [B,T,V].
        decoder_input_ids start with START; both are padded with 0."""
        source_ids, decoder_ids = inputs
        memory, state = self.encode(source_ids)
        embedded = self.target_embedding(tf.cast(decoder_ids, tf.int32))
        if self.attention == "luong":
            h, _, _ = self.decoder(embedded, initial_state=state,
                                   training=training)
            context = self._context(h, memory)
            hidden = self.attentional(tf.concat([context, h], -1))
        else:
            hidden = self._bahdanau_sequence(embedded, state, memory)
        return self.logits(hidden)

    def _bahdanau_sequence(self, embedded, state, memory):
        steps = tf.transpose(embedded, [1, 0, 2])

        def step(carry, x):
            _, h, c = carry
            out, (h, c) = self._bahdanau_step(x, [h, c], memory)
            return out, h, c

        first = tf.zeros_like(state[0])
        outs, _, _ = tf.scan(step, steps, initializer=(first, *state))
        return tf.transpose(outs, [1, 0, 2])

    # -- decoding ----------------------------------------------------------

    def step(self, tokens, state, memory):
        """Decoder step for ids [N] -> (log-probabilities [N, V], state)."""
        embedded = self.target_embedding(tokens)
        if self.attention == "luong":
            h, (h, c) = self.decoder.cell(embedded, state, training=False)
            context = self._context(h[:, None, :], memory)[:, 0]
            hidden = self.attentional(tf.concat([context, h], -1))
            state = [h, c]
        else:
            hidden, state = self._bahdanau_step(embedded, state, memory)
        return tf.nn.log_softmax(tf.cast(self.logits(hidden), tf.float32)), \
            state

    def _decoder_inputs(self, source_ids):
        """Source ids [B, S], integers in [0, source vocabulary size)."""
        ids = tf.convert_to_tensor(source_ids)
        size = self.source_vocabulary.size
        if not ids.dtype.is_integer or ids.shape.rank != 2:
            raise TypeError(f"source ids must be integers [B, S], got "
                            f"{ids.dtype.name} of shape {ids.shape}")
        if not tf.executing_eagerly():  # inside a tf.function
            message = f"source ids must lie in [0, {size})"
            checks = [tf.debugging.assert_non_negative(ids, message=message),
                      tf.debugging.assert_less(
                          ids, tf.cast(size, ids.dtype), message=message)]
            with tf.control_dependencies(checks):
                return tf.cast(ids, tf.int32)
        values = ids.numpy()
        if values.size and (values.min() < 0 or values.max() >= size):
            raise ValueError(f"source ids must lie in [0, {size}), got "
                             f"values from {values.min()} to "
                             f"{values.max()}")
        if values.shape[1] == 0:  # empty sources: one PAD step (masked)
            values = np.full((values.shape[0], 1), PAD)
        return tf.constant(values, tf.int32)

    def translate(self, texts, beam_width=1, max_length=None):
        """Source strings -> decoded target strings (python str). At the
        character level a character the model never saw is an error; at
        the token level an unknown token reads as the unknown id."""
        texts = arguments.texts("texts", texts)
        if not texts:
            return []
        if self.level == "char":
            known = set(self.source_tokens)
            unknown = sorted({ch for t in texts for ch in t} - known)
            if unknown:
                raise ValueError(f"characters not in the source vocabulary: "
                                 f"{unknown!r}")
        ids = self.source_vocabulary.encode(tf.constant(texts, tf.string))
        ids = ids.to_tensor(default_value=PAD)
        return self.to_strings(self.beam_search(ids, beam_width, max_length))
