"""The main job on the embedded default: a character LSTM trained on the
Python standard library's own source (every machine has it; no download),
then a sample and an export for TF Serving.

    python -m tfrnn.app.demo [any `tfrnn train charlstm` option]

It is `tfrnn train charlstm` with a shorter schedule (3 epochs of 150
batches, a few minutes on two cores); see `tfrnn train charlstm --help`.
"""

import sys

from tfrnn.app import cli

DEMO = ["--epochs", "3", "--steps-per-epoch", "150", "--batch-size", "32",
        "--prime", "def ", "--workdir", "runs/demo", "--export-dir",
        "runs/serving", "--verbose", "2"]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    return cli.main(["train", "charlstm"] + DEMO + list(argv))


if __name__ == "__main__":
    sys.exit(main())
