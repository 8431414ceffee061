"""Recipe: ConditionedGenerator (one-to-many) writes numbers in words.

    python zoo/generator/train.py [--epochs 20] [--workdir runs/generator]

The conditioning vector holds the 4 decimal digits of a number (one-hot,
40 values), standing in for image features in captioning; the model sets
its LSTM state from it and writes the number in English ("four thousand two
hundred seven"). Test numbers never appear in training.
"""

import argparse
import sys

import numpy as np

from tfrnn.data.synthetic import spelled_numbers
from tfrnn.training.recipes import export_if_asked, train_generator


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--workdir", default="runs/generator")
    parser.add_argument("--export-dir", default=None)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    features, words, numbers = spelled_numbers(10000 + args.examples)
    _, first = np.unique(numbers, return_index=True)
    order = np.sort(first)  # each number once, in drawn order
    test, rest = order[:1000], order[1000:]
    valid, train = rest[:500], rest[500:500 + args.examples]
    pick = lambda idx: (features[idx], [words[i] for i in idx])  # noqa
    model, history, seconds = train_generator(
        *pick(train), *pick(valid), args.workdir, epochs=args.epochs,
        units=args.units, verbose=args.verbose)
    test_features, test_words = pick(test)
    greedy = model.generate(test_features)
    beam = model.to_strings(model.beam_search(test_features, 4))
    exact = np.mean([g == w for g, w in zip(greedy, test_words)])
    exact_beam = np.mean([b == w for b, w in zip(beam, test_words)])
    print(f"best val loss {min(history['val_loss']):.4f} after "
          f"{len(history['val_loss'])} epochs, {seconds:.0f} s; exact on "
          f"{len(test)} unseen numbers: greedy {exact:.2%}, beam 4 "
          f"{exact_beam:.2%}")
    for i in range(3):
        print(f"  {numbers[test[i]]} -> {greedy[i]!r}")
    export_if_asked(model, args.export_dir, "numbers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
