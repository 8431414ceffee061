"""Fused LSTM/GRU vs Keras, BlockLSTMV2 and torch; see tfrnn/bench.py.

    python benchmarks/lstm_bench.py [--cell gru] [--rounds 15] [--json F]

The same as `tfrnn bench`; the code lives in the package so the command
line can run it from an installed copy.
"""

import sys

from tfrnn import bench

if __name__ == "__main__":
    sys.exit(bench.main())
