"""Decoding loops over any model with the decoder protocol, in stock
TensorFlow ops (a tf.while_loop), so they trace and export:

    memory, state = model.encode(inputs)        # state: list of [B, H]
    log_probs, state = model.step(ids, state, memory)   # ids [N] -> [N, V]
    model.target_vocabulary                     # a tfrnn.data.Vocabulary

`memory` is any nest of [B, ...] tensors (encoder outputs, masks) or ().
Decoding starts from START; a row ends at END and is PAD after it.
"""

import tensorflow as tf

from tfrnn.data.vocab import END, PAD, RESERVED, START
from tfrnn.zoo import arguments
from tfrnn.zoo.sampling import check_sampling, next_ids

NEG = -1e9  # a finite "minus infinity": no NaN from inf - inf


def beam_search(model, inputs, beam_width, max_length, length_penalty):
    """Ids [B, L] of the best of beam_width hypotheses per row, ranked by
    log-probability / ((5 + length) / 6) ** length_penalty; PAD after END.
    beam_width=1 is greedy decoding."""
    batch = tf.shape(tf.nest.flatten(inputs)[0])[0]
    k = beam_width
    memory, state = model.encode(inputs)
    # Every row's memory and state repeated for its k beams: row b*k + j.
    memory = tf.nest.map_structure(lambda t: tf.repeat(t, k, axis=0), memory)
    state = [tf.repeat(s, k, axis=0) for s in state]
    vocab = model.target_vocabulary.size
    # Only beam 0 is alive at first, so the k beams do not start identical.
    scores = tf.tile(tf.concat([[0.0], tf.fill([k - 1], NEG)], 0)[None],
                     [batch, 1])
    finished = tf.zeros([batch, k], tf.bool)
    lengths = tf.zeros([batch, k], tf.float32)
    tokens = tf.fill([batch * k], START)
    sequences = tf.zeros([batch, k, 0], tf.int32)
    # What a finished beam may append: PAD, at no cost; a running one any
    # id but the reserved ones other than END.
    pad_only = tf.where(tf.range(vocab) == PAD, 0.0, NEG)
    banned = (tf.range(vocab) < len(RESERVED)) & (tf.range(vocab) != END)
    offsets = tf.range(batch)[:, None] * k

    def penalty(length):
        return tf.pow((5.0 + length) / 6.0, length_penalty)

    def body(t, tokens, state, scores, finished, lengths, sequences):
        log_probs, state = model.step(tokens, state, memory)
        log_probs = tf.reshape(tf.where(banned, NEG, log_probs),
                               [batch, k, vocab])
        log_probs = tf.where(finished[:, :, None], pad_only, log_probs)
        total = scores[:, :, None] + log_probs
        grown = lengths + 1.0 - tf.cast(finished, tf.float32)
        ranked = total / penalty(grown)[:, :, None]
        _, best = tf.math.top_k(tf.reshape(ranked, [batch, k * vocab]), k)
        origin, token = best // vocab, best % vocab
        pick = lambda x: tf.gather(x, origin, batch_dims=1)  # noqa: E731
        scores = tf.gather(tf.reshape(total, [batch, k * vocab]), best,
                           batch_dims=1)
        lengths = pick(grown)
        finished = pick(finished) | tf.equal(token, END)
        sequences = tf.concat([pick(sequences), token[:, :, None]], axis=2)
        rows = tf.reshape(offsets + origin, [-1])
        state = [tf.gather(s, rows) for s in state]
        return (t + 1, tf.reshape(token, [-1]), state, scores, finished,
                lengths, sequences)

    def running(t, tokens, state, scores, finished, *_):
        return (t < max_length) & ~tf.reduce_all(finished)

    _, _, _, scores, _, lengths, sequences = tf.while_loop(
        running, body,
        (0, tokens, state, scores, finished, lengths, sequences),
        shape_invariants=(None, tf.TensorShape([None]),
                          [tf.TensorShape([None, s.shape[1]]) for s in state],
                          tf.TensorShape([None, None]),
                          tf.TensorShape([None, None]),
                          tf.TensorShape([None, None]),
                          tf.TensorShape([None, None, None])))
    best = tf.argmax(scores / penalty(lengths), axis=1, output_type=tf.int32)
    return tf.gather(sequences, best, batch_dims=1)


def sample_decode(model, inputs, max_length, greedy=False, temperature=1.0,
                  top_k=None, seed=(0, 0)):
    """Ids [B, L]: one token at a time, the most likely (greedy) or drawn at
    `temperature` among the top_k; never a reserved id other than END.
    PAD after END."""
    memory, state = model.encode(inputs)
    batch = tf.shape(state[0])[0]
    vocab = model.target_vocabulary.size
    banned = (tf.range(vocab) < len(RESERVED)) & (tf.range(vocab) != END)
    seed = tf.cast(seed, tf.int32)

    def body(t, tokens, state, finished, out):
        log_probs, state = model.step(tokens, state, memory)
        log_probs = tf.where(banned, NEG, log_probs)
        chosen = next_ids(log_probs, greedy, temperature, top_k,
                          seed=seed + tf.stack([0, t]))
        chosen = tf.where(finished, PAD, chosen)
        return (t + 1, chosen, state, finished | tf.equal(chosen, END),
                out.write(t, chosen))

    def running(t, tokens, state, finished, out):
        # At least one step: an empty batch (all "finished") still stacks.
        return (t < max_length) & ((t == 0) | ~tf.reduce_all(finished))

    _, _, _, _, out = tf.while_loop(
        running, body,
        (0, tf.fill([batch], START), state, tf.zeros([batch], tf.bool),
         tf.TensorArray(tf.int32, size=0, dynamic_size=True)))
    return tf.transpose(tf.reshape(out.stack(), [-1, batch]))


class Decoding:
    """Greedy, sampled and beam-search decoding for a keras.Model with the
    decoder protocol above and a `max_decode_length`. Subclasses say how
    raw inputs become tensors in `_decoder_inputs`."""

    def _decoder_inputs(self, inputs):
        raise NotImplementedError

    def _max_length(self, max_length):
        max_length = self.max_decode_length if max_length is None else \
            max_length
        return tf.constant(arguments.length("max_length", max_length, 1),
                           tf.int32)

    def greedy_decode(self, inputs, max_length=None):
        """Ids [B, L]: the most likely token at every step."""
        return self._sample(self._decoder_inputs(inputs),
                            self._max_length(max_length), True, 1.0, None,
                            tf.constant([0, 0]))

    def sample(self, inputs, temperature=1.0, top_k=None, seed=0,
               max_length=None):
        """Ids [B, L] drawn at `temperature` among the top_k; the same seed
        gives the same ids."""
        check_sampling(temperature, top_k, self.target_vocabulary.size)
        return self._sample(self._decoder_inputs(inputs),
                            self._max_length(max_length), False,
                            float(temperature), top_k,
                            tf.constant([arguments.seed(seed), 0]))

    def beam_search(self, inputs, beam_width=4, max_length=None,
                    length_penalty=0.6):
        """Ids [B, L] of the best of beam_width hypotheses per row, ranked
        by log-probability / ((5 + length) / 6) ** length_penalty (Wu et
        al. 2016). beam_width=1 is greedy decoding."""
        beam_width = arguments.integer("beam_width", beam_width, 1,
                                       arguments.MAX_BEAM_WIDTH)
        length_penalty = arguments.number("length_penalty", length_penalty,
                                          0)
        return self._beam(self._decoder_inputs(inputs), beam_width,
                          self._max_length(max_length),
                          tf.constant(length_penalty))

    def to_strings(self, ids):
        """Decoded ids [B, L] -> B python strings (up to END)."""
        return [t.decode("utf-8") for t in
                self.target_vocabulary.decode(ids).numpy()]

    @tf.function(reduce_retracing=True)
    def _sample(self, inputs, max_length, greedy, temperature, top_k, seed):
        return sample_decode(self, inputs, max_length, greedy, temperature,
                             top_k, seed)

    @tf.function(reduce_retracing=True)
    def _beam(self, inputs, beam_width, max_length, length_penalty):
        return beam_search(self, inputs, beam_width, max_length,
                           length_penalty)
