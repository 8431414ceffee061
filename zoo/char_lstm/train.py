"""Recipe: CharLSTM on tinyshakespeare (90/10 split), the char-rnn setup.

    python zoo/char_lstm/train.py [--text ../shared/data/tinyshakespeare.txt]
        [--workdir runs/char_lstm] [extra `tfrnn train charlstm` options]

The default corpus is tinyshakespeare where this checkout has it beside it
(../shared/data); elsewhere the recipe says so and trains on the Python
standard library's source, which every machine has.

First times 20 batches of the same model on tfrnn's and on Keras's LSTM
layers (training chars/s of each), then trains with model.fit (progress
bars and chars/s per epoch, TensorBoard logs in WORKDIR/logs, the
best validation loss kept in WORKDIR/best.keras, BackupAndRestore: rerun the
same command after an interruption and it resumes), then prints a sample.
"""

import os
import sys

from tfrnn.app import cli

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TEXT = os.path.join(HERE, "..", "..", "..", "shared", "data",
                            "tinyshakespeare.txt")
DEFAULTS = ["--epochs", "15", "--units", "512", "--layers", "2",
            "--dropout", "0.25", "--seq-length", "100", "--batch-size", "32",
            "--learning-rate", "2e-3", "--decay-epochs", "6",
            "--prime", "ROMEO:", "--workdir", "runs/char_lstm", "--verbose",
            "2", "--compare-throughput", "20"]

if __name__ == "__main__":
    sys.exit(cli.recipe(DEFAULTS, DEFAULT_TEXT,
                        "training on the Python standard library's "
                        "source (pass --text FILE)"))
