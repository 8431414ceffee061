"""CharLSTM (and CharRNN, the same model by its general name): a character
language model (many-to-many) that generates text (one-to-many) from a
priming string.

Embedding (or one-hot) -> a stack of tfrnn LSTM, GRU or Elman layers (the
fused ops), of one size or one size per layer -> logits over the
characters. Train it with plain `model.fit` on (ids, next ids) windows of
a stream, or on short texts one per line (START text END, padded);
`generate` runs the trained cells one character at a time (the
single-step ops) with greedy, temperature or top-k choice, for a fixed
length or until the model emits END. `stateful=True` carries each
layer's state from one batch to the next, for truncated BPTT over
contiguous streams (`tfrnn.data.stream_windows`).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from tfrnn.data.vocab import END, PAD, RESERVED, START, Vocabulary
from tfrnn.layers.gru import GRU
from tfrnn.layers.lstm import LSTM
from tfrnn.layers.simple_rnn import SimpleRNN
from tfrnn.zoo import arguments
from tfrnn.zoo.sampling import check_sampling, dummy_input, next_ids
from tfrnn.zoo.signatures import char_lstm_signatures


# CharLSTM(rnn=..., cell=...) -> the recurrent layer class.
RNN_LAYERS = {"tfrnn": {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN},
              "keras": {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU,
                        "rnn": keras.layers.SimpleRNN}}


def layer_sizes(units, num_layers):
    """Each layer's units from `units` (an int for every layer, or one per
    layer) and num_layers (None: 2 for an int, the list's length)."""
    if isinstance(units, (list, tuple)):
        sizes = [arguments.integer("each of units", u, 1, 2 ** 20)
                 for u in units]
        if not sizes:
            raise ValueError("units must name at least one layer's size")
        if num_layers not in (None, len(sizes)):
            raise ValueError(f"num_layers={num_layers} disagrees with the "
                             f"{len(sizes)} sizes of units={list(units)}")
        return sizes
    num_layers = 2 if num_layers is None else num_layers
    arguments.integer("num_layers", num_layers, 1, 1000)
    return [arguments.integer("units", units, 1, 2 ** 20)] * num_layers


@keras.saving.register_keras_serializable(package="tfrnn")
class CharLSTM(keras.Model):
    """Character LSTM language model.

    Args:
        tokens: the characters it knows (ids 4.. in this order; 0-3 are
            tfrnn.data's reserved pad/unknown/start/end). Build them with
            `CharLSTM.tokens_of(text)`.
        units: units of every layer (an int), or of each layer (a list,
            e.g. [128, 256] as the CS20 notes' GRU stack).
        num_layers: stacked layers (default 2 for an int `units`, the
            list's length for a list).
        cell: "lstm", "gru" or "rnn" (Elman, tanh).
        embedding_dim: size of the character embedding; 0 feeds one-hot
            vectors instead.
        dropout: dropout on every LSTM layer's output (training only).
        stateful: carry states across batches (truncated BPTT); the batch
            size must then be fixed, and `reset_states` starts new streams.
        rnn: "tfrnn" (the fused op's layer) or "keras" (keras.layers.LSTM:
            the same model on Keras's own layer, for comparisons).

    >>> text = "to be or not to be"
    >>> model = CharLSTM(CharLSTM.tokens_of(text), units=16, num_layers=1)
    >>> model(model.encode(text)[None]).shape[-1] == 4 + len(set(text))
    True
    >>> sample = model.generate("to", 10, seed=0)  # untrained: any letters
    >>> sample.startswith("to") and len(sample) == 12
    True
    """

    def __init__(self, tokens, units=256, num_layers=None, embedding_dim=64,
                 dropout=0.0, stateful=False, rnn="tfrnn", cell="lstm",
                 **kwargs):
        super().__init__(**kwargs)
        if rnn not in RNN_LAYERS:
            raise ValueError(f"rnn must be one of {sorted(RNN_LAYERS)}, got "
                             f"{rnn!r}")
        if cell not in RNN_LAYERS[rnn]:
            raise ValueError(f"cell must be one of {sorted(RNN_LAYERS[rnn])}"
                             f", got {cell!r}")
        self.layer_units = layer_sizes(units, num_layers)
        if not 0.0 <= arguments.number("dropout", dropout, 0) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.vocabulary = Vocabulary(tokens, level="char")
        if self.vocabulary.size == len(RESERVED):
            raise ValueError("tokens is empty: a model of no characters")
        self.tokens = list(tokens)
        self.units = list(units) if isinstance(units, (list, tuple)) \
            else units
        self.num_layers, self.cell = len(self.layer_units), cell
        self.embedding_dim, self.dropout = embedding_dim, dropout
        self.stateful, self.rnn = stateful, rnn
        self.vocab_size = self.vocabulary.size
        self.embedding = (keras.layers.Embedding(self.vocab_size,
                                                 embedding_dim,
                                                 name="embedding")
                          if embedding_dim else None)
        self.recurrent = [RNN_LAYERS[rnn][cell](
            size, return_sequences=True, stateful=stateful,
            name=f"{cell}_{i}") for i, size in enumerate(self.layer_units)]
        self.dropouts = [keras.layers.Dropout(dropout, name=f"dropout_{i}")
                         for i in range(self.num_layers)] if dropout else []
        self.logits = keras.layers.Dense(self.vocab_size, name="logits")

    @staticmethod
    def tokens_of(text):
        """The distinct characters of `text`, most frequent first."""
        return Vocabulary.from_texts([text]).tokens[len(RESERVED):]

    def serving_signatures(self, **options):
        """What tfrnn.export saves for this model (tfrnn.zoo.signatures
        builds it): the signature generate, generate_until_end
        and score (options: max_prompt_length, max_generate_length,
        top_k)."""
        return char_lstm_signatures(self, **options)

    def get_config(self):
        return {**super().get_config(), "tokens": self.tokens,
                "units": self.units, "num_layers": self.num_layers,
                "embedding_dim": self.embedding_dim, "dropout": self.dropout,
                "stateful": self.stateful, "rnn": self.rnn,
                "cell": self.cell}

    def build(self, input_shape):
        """Creates the weights by running the model once on zeros (what a
        `.keras` file needs when it is loaded)."""
        self.call(dummy_input(input_shape, tf.int32))
        if self.stateful:
            self.reset_states()

    def _embed(self, ids):
        if self.embedding is not None:
            return self.embedding(ids)
        return tf.one_hot(ids, self.vocab_size, dtype=self.compute_dtype)

    def call(self, ids, training=False):
        """Logits [B, T, vocab] of the next character after each of ids."""
        x = self._embed(ids)
        for i, layer in enumerate(self.recurrent):
            x = layer(x, training=training)
            if self.dropouts:
                x = self.dropouts[i](x, training=training)
        return self.logits(x)

    def reset_states(self):
        """Zeroes the carried states of a stateful model."""
        for layer in self.recurrent:
            layer.reset_states()

    def encode(self, text):
        """Text -> int32 ids; characters the model never saw are an error."""
        ids = self.vocabulary.encode(text).numpy()
        unknown = sorted({ch for ch, i in zip(text, ids) if i < len(RESERVED)})
        if unknown:
            raise ValueError(f"characters not in the model's vocabulary: "
                             f"{unknown!r}")
        return ids.astype(np.int32)

    def decode(self, ids):
        """Ids -> text; ids outside [0, vocab_size) are an error."""
        array = np.asarray(ids)
        if array.size and (array.dtype.kind not in "iu" or array.min() < 0
                           or array.max() >= self.vocab_size):
            raise ValueError(f"ids must be integers in [0, "
                             f"{self.vocab_size}), got {array.tolist()}")
        return self.vocabulary.decode(tf.constant(ids, tf.int32)).numpy() \
            .decode("utf-8")

    @property
    def states_per_layer(self):
        """2 for the LSTM (h, c), 1 for the GRU and the Elman RNN (h)."""
        return 2 if self.cell == "lstm" else 1

    def zero_states(self, batch_size):
        """Each layer's states ([h, c] or [h]) in order, flattened, zero."""
        return [tf.zeros([batch_size, size], self.compute_dtype)
                for size in self.layer_units
                for _ in range(self.states_per_layer)]

    def step(self, ids, states):
        """One character per row: ids [B], states as `zero_states` ->
        (logits [B, vocab], new states). Runs the cells' single-step op;
        a row whose id is PAD keeps its states (left-padded prompts)."""
        x = self._embed(ids)
        new_states, n = [], self.states_per_layer
        for i, layer in enumerate(self.recurrent):
            x, state = layer.cell(x, states[n * i:n * (i + 1)],
                                  training=False)
            new_states += tf.nest.flatten(state)
        real = tf.not_equal(ids, PAD)[:, None]
        new_states = [tf.where(real, new, old)
                      for new, old in zip(new_states, states)]
        return self.logits(x), new_states

    def generate(self, prime, length=200, greedy=False, temperature=1.0,
                 top_k=None, seed=0, until_end=False):
        """`prime` followed by up to `length` generated characters.

        greedy: always the most likely next character; otherwise sampled at
        `temperature` (lower is safer), among the `top_k` most likely when
        set. The same seed gives the same text. until_end: the text is one
        line as a per-line model learnt them (START, the prime, then
        characters until the model emits END, or `length` of them); the
        END is not part of the text. An empty prime starts from START.
        """
        arguments.text("prime", prime)
        length = arguments.length("length", length)
        seed = arguments.seed(seed)
        if greedy:  # temperature and top_k unused, but still numbers
            arguments.number("temperature", temperature, -math.inf)
        else:
            check_sampling(temperature, top_k, self.vocab_size)
        ids = self.encode(prime)
        if until_end or not prime:
            ids = np.concatenate([[START], ids]).astype(np.int32)
        out = self.generate_ids(tf.constant(ids[None, :]),
                                tf.constant(length, tf.int32),
                                greedy=greedy,
                                temperature=tf.constant(float(temperature)),
                                top_k=top_k, seed=tf.constant(int(seed)),
                                until_end=bool(until_end))
        return prime + self.decode(out[0].numpy())

    @tf.function(reduce_retracing=True)
    def generate_ids(self, prime_ids, length, greedy=False, temperature=1.0,
                     top_k=None, seed=0, until_end=False):
        """In-graph generation (traced; see `generate_ids_graph`)."""
        return self.generate_ids_graph(prime_ids, length, greedy,
                                       temperature, top_k, seed, until_end)

    def generate_ids_graph(self, prime_ids, length, greedy=False,
                           temperature=1.0, top_k=None, seed=0,
                           until_end=False):
        """prime_ids [B, P] (P >= 1, left-padded with PAD: every row's
        prompt ends at the last column) -> generated ids [B, length]. With
        until_end a row may emit END and is PAD after it; the loop stops
        when every row has ended."""
        batch = tf.shape(prime_ids)[0]
        prime_length = tf.shape(prime_ids)[1]
        seed = tf.cast(seed, tf.int32)
        states = self.zero_states(batch)
        # Feed all but the last prime character, then generate from it.
        for_states = prime_ids[:, :-1]

        def feed(t, states):
            _, states = self.step(for_states[:, t], states)
            return t + 1, states

        _, states = tf.while_loop(lambda t, _: t < prime_length - 1, feed,
                                  (tf.constant(0), states))
        out = tf.TensorArray(tf.int32, size=length)
        # Never the reserved ids (padding, unknown, start), nor END unless
        # the text may end.
        ids = tf.range(self.vocab_size)
        banned = (ids < len(RESERVED)) & ((ids != END) | (not until_end))

        def emit(t, current, states, ended, out):
            logits, states = self.step(current, states)
            logits = tf.where(banned, tf.cast(-1e9, logits.dtype), logits)
            chosen = next_ids(logits, greedy, temperature, top_k,
                              seed=tf.stack([seed, t]))
            chosen = tf.where(ended, PAD, chosen)
            return (t + 1, chosen, states, ended | tf.equal(chosen, END),
                    out.write(t, chosen))

        t, _, _, _, out = tf.while_loop(
            lambda t, _, __, ended, ___: (t < length) & ~tf.reduce_all(ended)
            if until_end else t < length, emit,
            (tf.constant(0), prime_ids[:, -1], states,
             tf.zeros([batch], tf.bool), out))
        # Rows that all ended early: PAD for the steps not taken.
        _, out = tf.while_loop(
            lambda t, _: t < length,
            lambda t, out: (t + 1, out.write(t, tf.fill([batch], PAD))),
            (t, out))
        return tf.transpose(tf.reshape(out.stack(), [length, batch]))

    def log_likelihood(self, ids, lengths):
        """Per row, the summed log-probability of ids[1:len] given the ids
        before them, and how many characters that scores: ids [B, T]
        right-padded, lengths [B] -> (log_likelihood [B], count [B]).
        A length outside [0, T] is an InvalidArgumentError."""
        checks = [tf.debugging.assert_non_negative(
                      lengths, message="lengths must be >= 0"),
                  tf.debugging.assert_less_equal(
                      lengths, tf.shape(ids)[1],
                      message="lengths must be <= the ids' length T")]
        with tf.control_dependencies(checks):
            ids = tf.identity(ids)
        logits = tf.cast(self.call(ids[:, :-1]), tf.float32)
        per_char = -tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=ids[:, 1:], logits=logits)
        scored = tf.sequence_mask(lengths - 1, tf.shape(ids)[1] - 1)
        total = tf.reduce_sum(tf.where(scored, per_char, 0.0), axis=1)
        return total, tf.maximum(lengths - 1, 0)


@keras.saving.register_keras_serializable(package="tfrnn")
class CharRNN(CharLSTM):
    """CharLSTM by its general name, for stacks of any cell and sizes: the
    CS20 notes' character model is `CharRNN(tokens, units=[128, 256],
    cell="gru")`. The same model, arguments and methods as CharLSTM.

    >>> model = CharRNN(list("ab "), units=[8, 16], cell="gru")
    >>> model.num_layers, model.layer_units
    (2, [8, 16])
    """
