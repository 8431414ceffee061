"""A step's recurrent MatMul in a TF1 session, the layouts the inference
lowering (tfrnn/ops/inference.py) chose between: h [B,H] . U [H,4H] as one
MatMul or as two column halves (which the inter-op threads run side by
side), batch-major or unit-major (U^T . h^T). Each variant runs 200 steps
of h = tanh(z[:, :H]) in a tf.while_loop; prints us per step (median of 7).

    python benchmarks/step_matmul_probe.py [--units 256]
        [--batches 1 2 4 8 16 32 64]
"""

import argparse
import statistics
import time

import numpy as np
import tensorflow as tf

STEPS = 200


def timed(session, fetch, feed, repeats=7):
    for _ in range(2):
        session.run(fetch, feed)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(fetch, feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / STEPS * 1e6


def variants(u, units):
    """name -> (build(h), unit_major)."""
    c = tf.constant
    u_t = u.T.copy()
    half = 2 * units
    return {
        "batch-major, one MatMul": (
            lambda h: tf.tanh(tf.matmul(h, c(u))[:, :units]), False),
        "batch-major, two halves": (
            lambda h: tf.tanh(tf.matmul(h, c(u[:, :half]))[:, :units]
                              + tf.matmul(h, c(u[:, half:]))[:, :units]),
            False),
        "unit-major, one MatMul": (
            lambda h: tf.tanh(tf.matmul(c(u_t), h)[:units]), True),
        "unit-major, two halves": (
            lambda h: tf.tanh(tf.matmul(c(u_t[:half]), h)[:units]
                              + tf.matmul(c(u_t[half:]), h)[:units]), True),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--batches", type=int, nargs="+",
                        default=[1, 2, 4, 8, 16, 32, 64])
    args = parser.parse_args(argv)
    tf.compat.v1.disable_eager_execution()
    rng = np.random.default_rng(0)
    units = args.units
    # 0.2: h.U keeps unit-scale values (decaying ones turn subnormal and slow)
    u = (rng.standard_normal((units, 4 * units)) * 0.2).astype(np.float32)
    names = list(variants(u, units))
    print(f"H = {units}; us per step of the recurrent MatMul (+ tanh)")
    print(f"{'B':>4}  " + "  ".join(f"{n:>24}" for n in names))
    for batch in args.batches:
        row = []
        for name, (build, unit_major) in variants(u, units).items():
            graph = tf.Graph()
            with graph.as_default():
                shape = [units, None] if unit_major else [None, units]
                h0 = tf.compat.v1.placeholder(tf.float32, shape)
                _, h = tf.while_loop(lambda n, h: n < STEPS,
                                     lambda n, h: (n + 1, build(h)), (0, h0))
                session = tf.compat.v1.Session(graph=graph)
                value = rng.standard_normal(
                    (units, batch) if unit_major else (batch, units))
                row.append(timed(session, h,
                                 {h0: value.astype(np.float32)}))
        print(f"{batch:>4}  " + "  ".join(f"{t:>24.1f}" for t in row))


if __name__ == "__main__":
    main()
