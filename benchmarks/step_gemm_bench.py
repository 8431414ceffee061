"""One recurrence step's product h[B,H] . U[H,4H] through library GEMMs.

Why the fused op does not call a GEMM library per step: a library GEMM
packs (copies into its blocked layout) the weight operand on every call, so
each step pays for copying U again. This times that per-step call with
numpy's BLAS (OpenBLAS in the PyPI wheels) and, when installed, torch.matmul
(MKL on CPU), against the whole fused forward's cost per step (tfrnn's op,
inference, T steps of the same B and H, input size 1 so x.W is negligible).

    python benchmarks/step_gemm_bench.py [--calls 200]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfrnn import ops  # noqa: E402

CONFIGS = [(16, 512), (32, 128), (64, 256), (1, 256)]  # (B, H)


def us_per_call(fn, calls, warmup=20):
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def fused_us_per_step(batch, units, steps=100, rounds=5):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((batch, steps, 1)), tf.float32)
    kernel = tf.constant(0.1 * rng.standard_normal((1, 4 * units)), tf.float32)
    recurrent = tf.constant(0.1 * rng.standard_normal((units, 4 * units)),
                            tf.float32)
    zeros = tf.zeros([batch, units])
    bias = tf.zeros([4 * units])

    def call():
        ops.lstm_sequence(x, zeros, zeros, kernel, recurrent, bias,
                          training=False)[0].numpy()

    call()
    return min(us_per_call(call, 1, warmup=0) for _ in range(rounds)) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    print(f"{'B,H':>8} | {'numpy BLAS us':>13} {'torch us':>9} | "
          f"{'tfrnn fused fwd us/step':>23}")
    for batch, units in CONFIGS:
        rng = np.random.default_rng(0)
        h = rng.standard_normal((batch, units)).astype(np.float32)
        u = rng.standard_normal((units, 4 * units)).astype(np.float32)
        blas = us_per_call(lambda: h @ u, args.calls)
        if torch is not None:
            th, tu = torch.from_numpy(h), torch.from_numpy(u)
            by_torch = us_per_call(lambda: th @ tu, args.calls)
        else:
            by_torch = float("nan")
        print(f"{batch:>4},{units:<3} | {blas:13.1f} {by_torch:9.1f} | "
              f"{fused_us_per_step(batch, units):23.1f}", flush=True)


if __name__ == "__main__":
    main()
