"""Recipe: SequenceClassifier (many-to-one) on variable-length sequences.

    python zoo/classifier/train.py [--task majority|mnist] [--epochs 8]
        [--cell lstm|gru] [--bidirectional] [--workdir runs/classifier]

majority (default, no download): which of two ids occurs more often in a
sequence of 10-100 ids; batches bucketed by length and masked, so the
model counts over each row's real steps only. Chance is 50%.
mnist: the classic 28 rows of 28 pixels (tensorflow-datasets download).
"""

import argparse
import sys

import tensorflow as tf

from tfrnn.data import bucket_boundaries, bucket_by_length
from tfrnn.data.synthetic import majority_vote
from tfrnn.data.tfds_adapters import mnist_rows
from tfrnn.zoo import SequenceClassifier
from tfrnn.training.recipes import export_if_asked, train_classifier


def majority_batches(count, seed, batch_size):
    sequences, labels = majority_vote(count, seed=seed)
    data = tf.data.Dataset.from_generator(
        lambda: zip(sequences, labels),
        output_signature=(tf.TensorSpec([None], tf.int32),
                          tf.TensorSpec([], tf.int32)))
    boundaries = bucket_boundaries([len(s) for s in sequences], 8)
    return bucket_by_length(data, batch_size, boundaries)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=("majority", "mnist"),
                        default="majority")
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workdir", default="runs/classifier")
    parser.add_argument("--export-dir", default=None)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    if args.task == "majority":
        train = majority_batches(args.examples, 0, args.batch_size)
        valid = majority_batches(args.examples // 5, 1, args.batch_size)
        model = SequenceClassifier(2, vocab_size=14, embedding_dim=16,
                                   units=args.units, cell=args.cell,
                                   bidirectional=args.bidirectional)
    else:
        train = mnist_rows("train", args.batch_size)
        valid = mnist_rows("test", args.batch_size)
        model = SequenceClassifier(10, units=args.units, cell=args.cell,
                                   bidirectional=args.bidirectional)
    model, history, seconds = train_classifier(
        model, train, valid, args.workdir, epochs=args.epochs,
        verbose=args.verbose)
    accuracy = max(history["val_accuracy"])
    print(f"{args.task}: best validation accuracy {accuracy:.2%} after "
          f"{len(history['val_accuracy'])} epochs, {seconds:.0f} s")
    export_if_asked(model, args.export_dir, args.task)
    return 0


if __name__ == "__main__":
    sys.exit(main())
