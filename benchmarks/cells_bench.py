"""The fused cells against each other in one run: tfrnn's LSTM, GRU and
Elman RNN (tanh) layers at the same configs, interleaved round by round, as
a share of the GEMM peak measured in the same run (the cells do 4, 3 and 1
gates' worth of GEMM work per unit), so the cells' kernels can be compared
without the drift between separate runs.

    python benchmarks/cells_bench.py [--rounds 10] [--configs B,T,I,H ...]
"""

import argparse
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfrnn.bench import configs as bench_configs  # noqa: E402
from tfrnn.bench import speed as bench  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--configs", nargs="*",
                        help="B,T,I,H (default: the four of DESIGN.md)")
    args = parser.parse_args(argv)
    configs = bench_configs.parse(parser, args.configs,
                                  bench.DEFAULT_CONFIGS)
    cells = sorted(bench.CELLS)
    peak = bench.gemm_peak()
    print(f"GEMM peak {peak:.0f} GFLOP/s (tf.matmul 4096^3); % of it, "
          f"median of {args.rounds} interleaved rounds")
    print(f"{'B,T,I,H':>16} {'pass':>4} | " + " ".join(
        f"{c + ' ms':>9} {'%peak':>6}" for c in cells))
    for config in configs:
        candidates, inputs = {}, {}
        for cell in cells:
            x, weights = bench.problem(config, cell)
            fns = bench.layer_candidates(bench.CELLS[cell][0], x, weights)
            for p in bench.PASSES:
                candidates[(cell, p)] = fns[p]
            inputs[cell] = x
        # Each candidate gets its own cell's input.
        ms = bench.interleaved_medians(
            {key: (lambda _, fn=fn, x=inputs[key[0]]: fn(x))
             for key, fn in candidates.items()}, None, args.rounds,
            args.warmup)
        for p in bench.PASSES:
            row = []
            for cell in cells:
                t = ms[(cell, p)]
                share = bench.flops(config, cell, p == "f+b") / (t * 1e-3)
                row.append(f"{t:9.2f} {100 * share / 1e9 / peak:6.1f}")
            label = ",".join(map(str, config)) if p == "fwd" else ""
            print(f"{label:>16} {p:>4} | " + " ".join(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
