"""Recipe: the CS20 notes' character model, one short text per line.

    python zoo/char_lines/train.py [--text FILE] [--workdir runs/char_lines]
        [extra `tfrnn train charlstm` options]

A stack of GRUs of two sizes (128, 256) trained on each non-empty line as
one sample (START line END), batches bucketed by length, the loss masked
on the padding, 10% of the lines held out for validation; Adam 2e-3
halving every 5 epochs, gradients clipped at global norm 5, the best model
and a backup after every epoch in the workdir (rerun to resume). At the
end it prints how many of 100 temperature-0.8 samples ended by themselves
within twice the longest line, and five of them.

The default corpus is tinyshakespeare's lines where this checkout has it
beside it (../shared/data: 32,777 lines of at most 63 characters);
elsewhere it says so and trains on the lines of the Python standard
library's source, which every machine has.
"""

import os
import sys

from tfrnn.app import cli

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TEXT = os.path.join(HERE, "..", "..", "..", "shared", "data",
                            "tinyshakespeare.txt")
DEFAULTS = ["--lines", "--cell", "gru", "--units", "128", "256",
            "--epochs", "12", "--batch-size", "64", "--learning-rate", "2e-3",
            "--decay-epochs", "5", "--workdir", "runs/char_lines",
            "--export-dir", "runs/serving", "--verbose", "2"]

if __name__ == "__main__":
    sys.exit(cli.recipe(DEFAULTS, DEFAULT_TEXT,
                        "training on the lines of the Python standard "
                        "library's source (pass --text FILE)"))
