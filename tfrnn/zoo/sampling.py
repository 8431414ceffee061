"""Choosing the next token from logits: greedy, or sampled with temperature
and top-k. Stock TensorFlow ops only, so it runs inside exported graphs."""

import math

import tensorflow as tf

from tfrnn.zoo import arguments


def check_sampling(temperature, top_k, vocab_size):
    """Rejects settings that would silently sample nonsense: a temperature
    that is not a finite number > 0 (infinity would be uniform sampling),
    a top_k that is not an integer in [1, vocab_size]."""
    temperature = arguments.number("temperature", temperature, -math.inf)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0 (use greedy=True for "
                         f"argmax decoding), got {temperature}")
    if top_k is not None:
        arguments.integer("top_k", top_k, 1, vocab_size)


def next_ids(logits, greedy=False, temperature=1.0, top_k=None, seed=(0, 0)):
    """Ids [B] int32 from logits [B, V].

    greedy: the argmax. Otherwise one draw from softmax(logits / temperature),
    restricted to the top_k most likely ids when top_k is set. `seed` is a
    stateless seed (two integers), so a given seed gives the same draw.
    """
    if greedy:
        return tf.argmax(logits, axis=-1, output_type=tf.int32)
    logits = tf.cast(logits, tf.float32) / temperature
    if top_k is not None:
        kth = tf.math.top_k(logits, k=top_k).values[:, -1:]
        logits = tf.where(logits < kth, tf.fill(tf.shape(logits), -1e9),
                          logits)
    draw = tf.random.stateless_categorical(logits, 1, seed, dtype=tf.int32)
    return draw[:, 0]


def dummy_input(shape, dtype):
    """Zeros of `shape` with unknown sizes as 1: what a subclassed zoo
    model's `build` runs once to create its weights."""
    return tf.zeros([1 if n is None else n for n in shape], dtype)
