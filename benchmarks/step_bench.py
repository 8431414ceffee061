"""The single-step LSTM op (decoding) against the pure-TF reference step.

Each candidate runs `--steps` steps in one tf.while_loop (so Python and
function-call overhead are not timed per step), after one warm-up call;
prints microseconds per step, median of `--rounds` calls.

    python benchmarks/step_bench.py [--steps 500] [--rounds 5]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfrnn import ops  # noqa: E402
from tfrnn.ops import reference  # noqa: E402

# (B, I, H): one sequence decoded at a time, and a small beam.
CONFIGS = [(1, 64, 512), (1, 64, 256), (4, 64, 256), (8, 64, 256)]


def us_per_step(step, batch, features, units, steps, rounds):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((batch, features)), tf.float32)
    kernel = tf.constant(0.1 * rng.standard_normal((features, 4 * units)),
                         tf.float32)
    recurrent = tf.constant(0.1 * rng.standard_normal((units, 4 * units)),
                            tf.float32)
    bias = tf.zeros([4 * units])
    zeros = tf.zeros([batch, units])

    @tf.function
    def loop(h, c):
        for _ in tf.range(steps):
            h, c = step(x, h, c, kernel, recurrent, bias)[:2]
        return h

    loop(zeros, zeros).numpy()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        loop(zeros, zeros).numpy()
        times.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{'B,I,H':>10} | {'op us':>8} {'reference us':>12} | x reference")
    for batch, features, units in CONFIGS:
        ours, theirs = (us_per_step(fn, batch, features, units, args.steps,
                                    args.rounds)
                        for fn in (ops.lstm_step, reference.lstm_step))
        print(f"{batch},{features},{units:>4} | {ours:8.1f} {theirs:12.1f} | "
              f"{theirs / ours:6.2f}", flush=True)


if __name__ == "__main__":
    main()
