"""Padding fraction with and without bucketing by length, on real data.

Examples are the speeches of tinyshakespeare (blocks separated by blank
lines), encoded as characters; batches of 32. Prints the fraction of padded
positions for one global pad length, per-batch padding, and bucketing with
boundaries from the length histogram.

    python benchmarks/padding_report.py \
        [--text ../shared/data/tinyshakespeare.txt]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfrnn.data import (Vocabulary, bucket_boundaries,  # noqa: E402
                        bucket_by_length, padded_batches, padding_fraction)
from tfrnn.data.corpora import read_text, stdlib_text  # noqa: E402

DEFAULT_TEXT = os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                            "data", "tinyshakespeare.txt")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", default=None, help="UTF-8 text, speeches "
                        "separated by blank lines (default: tinyshakespeare "
                        "in ../shared/data when present, else the Python "
                        "standard library's source)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--buckets", type=int, nargs="*", default=[4, 8, 16])
    args = parser.parse_args(argv)
    text = read_text(args.text or DEFAULT_TEXT) if args.text or \
        os.path.isfile(DEFAULT_TEXT) else stdlib_text()
    speeches = [s for s in text.split("\n\n") if s.strip()]
    vocab = Vocabulary.from_texts(speeches)
    lengths = np.array([len(s) for s in speeches])
    data = tf.data.Dataset.from_tensor_slices(speeches).map(vocab.encode)
    print(f"{len(speeches)} speeches, length median {np.median(lengths):.0f}, "
          f"max {lengths.max()} characters; batches of {args.batch_size}")
    rows = [("one global pad", padded_batches(
        data, args.batch_size, pad_to=int(lengths.max()))),
        ("per-batch pad", padded_batches(data, args.batch_size))]
    for n in args.buckets:
        rows.append((f"{n} buckets", bucket_by_length(
            data, args.batch_size, bucket_boundaries(lengths, n))))
    for name, batches in rows:
        print(f"{name:>16}: {padding_fraction(batches):6.1%} padding")


if __name__ == "__main__":
    main()
