"""What bfloat16 operands buy the fused ops' GEMMs on this CPU (issue 30's
first measurement): each GEMM of an LSTM call, float32 against bfloat16
operands with float32 results, through TensorFlow's MatMul (oneDNN, which
uses AVX512-BF16 or AMX where the CPU has them) and torch.matmul when torch
is installed. The fused op's own float32 GEMMs run at about TensorFlow's
speed (docs/benchmarks.md), so the float32 column is the op's today.

    python benchmarks/bf16_gemm_probe.py [--configs 32,100,128,256 ...]
                                         [--rounds 30]

Per config B,T,I,H (an LSTM, 4 gates) it times, in microseconds (median of
rounds, candidates interleaved):
  x.W    [B*T, I] x [I, 4H]   the hoisted input product (once a call)
  h.U    [B, H] x [H, 4H]     the recurrent product (once a step)
  dW     [I, B*T] x [B*T, 4H] a weight gradient (once a call)
and prints bf16/f32 speed-ups. The CPU flags that matter are printed first.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfrnn.bench.configs import lstm_gemms, parse  # noqa: E402
from tfrnn.ops.loader import cpu_flags  # noqa: E402

DEFAULT_CONFIGS = [(32, 100, 128, 256), (64, 100, 256, 512),
                   (16, 200, 64, 512), (256, 50, 512, 512)]
FLAGS = ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16")


def flags_that_matter():
    flags = cpu_flags()
    if flags is None:
        return "unknown"
    return " ".join(f for f in FLAGS if f in flags) or "none of " + \
        ", ".join(FLAGS)


def tf_candidates(m, k, n, rng):
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    a32, b32 = tf.constant(a), tf.constant(b)
    a16, b16 = tf.cast(a32, tf.bfloat16), tf.cast(b32, tf.bfloat16)
    f32 = tf.function(lambda: tf.matmul(a32, b32))
    bf16 = tf.function(lambda: tf.matmul(a16, b16))
    return {"tf f32": lambda: f32().numpy(), "tf bf16": lambda: bf16().numpy()}


def torch_candidates(m, k, n, rng):
    try:
        import torch
    except ImportError:
        return {}
    a = torch.from_numpy(rng.standard_normal((m, k)).astype(np.float32))
    b = torch.from_numpy(rng.standard_normal((k, n)).astype(np.float32))
    a16, b16 = a.bfloat16(), b.bfloat16()
    return {"torch f32": lambda: torch.matmul(a, b),
            "torch bf16": lambda: torch.matmul(a16, b16)}


def time_us(candidates, rounds):
    """Median microseconds of each candidate, interleaved round by round
    after a warm-up."""
    times = {name: [] for name in candidates}
    if not candidates:
        return {}
    for fn in candidates.values():
        fn()
        fn()
    for _ in range(rounds):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e6)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", default=None,
                        help="B,T,I,H ... (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    configs = parse(parser, args.configs, DEFAULT_CONFIGS)
    rng = np.random.default_rng(0)
    print(f"CPU flags: {flags_that_matter()}; TensorFlow {tf.__version__}; "
          f"{os.cpu_count()} CPUs; median of {args.rounds} rounds (us)")
    print(f"{'B,T,I,H':>16} {'GEMM':>4} {'m,k,n':>16} | {'tf f32':>8} "
          f"{'tf bf16':>8} {'x':>5} | {'torch f32':>9} {'torch bf16':>10} "
          f"{'x':>5}")
    cases = [(config, name, mkn) for config in configs
             for name, mkn in lstm_gemms(*config).items()]
    # TensorFlow first, torch in a phase of its own: their thread pools
    # slow each other when interleaved (tfrnn/bench/speed.py).
    tf_times = [time_us(tf_candidates(*mkn, rng), args.rounds)
                for _, _, mkn in cases]
    torch_times = [time_us(torch_candidates(*mkn, rng), args.rounds)
                   for _, _, mkn in cases]
    for (config, name, (m, k, n)), t, u in zip(cases, tf_times, torch_times):
        row = (f"{','.join(map(str, config)):>16} {name:>4} "
               f"{f'{m},{k},{n}':>16} | {t['tf f32']:8.1f} "
               f"{t['tf bf16']:8.1f} {t['tf f32'] / t['tf bf16']:5.2f}")
        if u:
            row += (f" | {u['torch f32']:9.1f} {u['torch bf16']:10.1f} "
                    f"{u['torch f32'] / u['torch bf16']:5.2f}")
        print(row, flush=True)

if __name__ == "__main__":
    main()
