"""Fused LSTM/GRU/Elman RNN vs Keras, BlockLSTMV2 and torch; see
tfrnn/bench/speed.py.

    python benchmarks/lstm_bench.py [--cell gru|rnn] [--rounds 15] [--json F]

The same as `tfrnn bench`; the code lives in the package so the command
line can run it from an installed copy.
"""

import os
import sys

if __name__ == "__main__":
    # A script may quiet TensorFlow's C++ log before TensorFlow loads; the
    # package never changes the environment of a program that imports it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tfrnn.bench import speed as bench

    sys.exit(bench.main())
