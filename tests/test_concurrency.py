"""The ops under concurrent use and repeated calls: many threads calling
one model get what one thread gets; resident memory does not grow."""

import concurrent.futures
import gc
import os

import keras
import numpy as np
import tensorflow as tf

from tfrnn.layers import GRU, LSTM


def model_and_inputs():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None, 6)),
                              LSTM(16, return_sequences=True),
                              GRU(8, return_sequences=True)])
    rng = np.random.default_rng(0)
    inputs = [tf.constant(rng.standard_normal((4, 10 + i, 6)).astype("f"))
              for i in range(8)]
    return model, inputs


def forward_and_gradients(model, x):
    with tf.GradientTape() as tape:
        y = model(x, training=True)
        loss = tf.reduce_sum(y * y)
    grads = tape.gradient(loss, model.trainable_weights)
    return [y.numpy()] + [g.numpy() for g in grads]


def test_threads_get_what_one_thread_gets():
    model, inputs = model_and_inputs()
    expected = [forward_and_gradients(model, x) for x in inputs]
    jobs = [i % len(inputs) for i in range(48)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(
            lambda i: forward_and_gradients(model, inputs[i]), jobs))
    for i, result in zip(jobs, results):
        for got, want in zip(result, expected[i]):
            np.testing.assert_array_equal(got, want)


def resident_mib():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_repeated_calls_do_not_grow_memory():
    """300 forward+backward calls whose scratch is ~0.5 MiB each: a leak
    of it would show as > 100 MiB."""
    model, _ = model_and_inputs()
    rng = np.random.default_rng(1)
    inputs = [tf.constant(rng.standard_normal((32, 60, 6)).astype("f"))
              for _ in range(2)]
    step = tf.function(lambda x: forward_and_gradients_graph(model, x),
                       reduce_retracing=True)
    for _ in range(30):  # warm up: traces, allocator pools
        step(inputs[0])
    gc.collect()
    before = resident_mib()
    for i in range(300):
        step(inputs[i % 2])
    gc.collect()
    grown = resident_mib() - before
    assert grown < 25, f"resident memory grew {grown:.1f} MiB in 300 calls"


def forward_and_gradients_graph(model, x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, training=True) ** 2)
    return tape.gradient(loss, model.trainable_weights)
