"""Recipe: Seq2Seq with attention learns date normalisation.

    python zoo/seq2seq/train.py [--attention luong|bahdanau] [--epochs 12]
        [--examples 40000] [--workdir runs/seq2seq_dates] [--export-dir DIR]

Written dates in 12 forms and 3 letter cases ("Tuesday, March 4, 1997",
"04.03.1997", "MAR. 4 1997", ...) -> ISO "1997-03-04". Every tenth calendar
day is held out: the test dates never appear in training, in any form.
Reports exact-match accuracy with greedy decoding and beam search.
"""

import argparse
import datetime
import sys

from tfrnn.data.synthetic import date_normalization
from tfrnn.training.recipes import exact_match, export_if_asked, train_seq2seq


def held_out(iso):
    return datetime.date.fromisoformat(iso).toordinal() % 10 == 0


def split_pairs(count, seed):
    """(train, test) pairs; test dates are the held-out days."""
    written, iso = date_normalization(count, seed=seed)
    train = [(w, d) for w, d in zip(written, iso) if not held_out(d)]
    test = [(w, d) for w, d in zip(written, iso) if held_out(d)]
    return train, test


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attention", choices=("luong", "bahdanau"),
                        default="luong")
    parser.add_argument("--examples", type=int, default=40000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workdir", default="runs/seq2seq_dates")
    parser.add_argument("--export-dir", default=None)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    train, _ = split_pairs(args.examples, seed=0)
    _, valid = split_pairs(args.examples // 4, seed=1)
    _, test = split_pairs(args.examples // 2, seed=2)
    print(f"{len(train)} training pairs, {len(valid)} validation and "
          f"{len(test)} test pairs on held-out days; e.g. {train[0]}")
    model, history, seconds = train_seq2seq(
        train, valid, args.workdir, attention=args.attention,
        epochs=args.epochs, units=args.units, batch_size=args.batch_size,
        verbose=args.verbose)
    sources, targets = [s for s, _ in test], [t for _, t in test]
    greedy = exact_match(model, sources, targets)
    beam = exact_match(model, sources, targets, beam_width=4)
    print(f"{args.attention}: best val loss {min(history['val_loss']):.4f} "
          f"after {len(history['val_loss'])} epochs, {seconds:.0f} s; "
          f"exact match on {len(test)} held-out dates: greedy "
          f"{greedy:.2%}, beam 4 {beam:.2%}")
    for source in sources[:5]:
        print(f"  {source!r} -> {model.translate([source], 4)[0]!r}")
    export_if_asked(model, args.export_dir, "dates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
