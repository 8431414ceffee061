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

from tfrnn.data import (Vocabulary, bucket_boundaries, bucket_by_length,  # noqa: E402
                        padded_batches, padding_fraction)

DEFAULT_TEXT = os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                            "data", "tinyshakespeare.txt")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", default=DEFAULT_TEXT)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--buckets", type=int, nargs="*", default=[4, 8, 16])
    args = parser.parse_args(argv)
    with open(args.text, encoding="utf-8") as f:
        speeches = [s for s in f.read().split("\n\n") if s.strip()]
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
