"""tfrnn's own layer alone (forward and forward+backward, ms) at the four
configurations, to compare two builds of tfrnn: run it in each checkout
(or with PYTHONPATH at each), alternately, a few times, on an idle
machine, and compare the medians.

    python benchmarks/layer_times.py [--cell lstm|gru|rnn] [--rounds 15]
"""

import argparse
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfrnn.bench import speed as bench  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cell", choices=sorted(bench.CELLS),
                        default="lstm")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{args.cell} from {os.path.dirname(bench.__file__)}")
    for config in bench.DEFAULT_CONFIGS:
        x, weights = bench.problem(config, args.cell)
        fns = bench.layer_candidates(bench.CELLS[args.cell][0], x, weights)
        ms = bench.interleaved_medians(fns, x, args.rounds, args.warmup)
        print(f"  {config}: fwd {ms['fwd']:.2f} f+b {ms['f+b']:.2f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
