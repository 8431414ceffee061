"""The `tfrnn` command line: train, generate, export, bench.

    tfrnn train charlstm [--text FILE] [--workdir DIR] [--epochs N] ...
    tfrnn train charlstm --lines --cell gru --units 128 256 ...  (CS20)
    tfrnn generate MODEL.keras --prime "ROMEO:" [--length 300] ...
    tfrnn export MODEL.keras BASE_DIR --name NAME [--version N]
    tfrnn bench [--cell lstm|gru|rnn] [--rounds N] [--configs B,T,I,H ...]
    tfrnn bench --variant all|peephole|zoneout|...  (LSTM options, masks)

`tfrnn train charlstm` without --text trains on the Python standard
library's own source (on every machine, no download), prints a sample,
keeps the best model in the workdir and exports it for TF Serving.
"""

import argparse
import os
import sys


def _number(kind, test, requirement):
    """An argparse type: `kind` values passing `test`, else one error line
    naming the requirement."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a number ({requirement})") from None
        if not test(value):
            raise argparse.ArgumentTypeError(
                f"{text} is not {requirement}")
        return value
    parse.__name__ = requirement  # argparse names the type by it
    return parse


POSITIVE = _number(int, lambda v: v > 0, "a positive integer")
COUNT = _number(int, lambda v: v >= 0, "an integer >= 0")
RATE = _number(float, lambda v: v > 0, "a number > 0")
FRACTION = _number(float, lambda v: 0 <= v < 1, "in [0, 1)")


def _existing_file(text):
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"{text} is not a file")
    return text


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr, exit status 2 (argparse's status,
    without the usage block; --help shows it)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _train_charlstm(args):
    from tfrnn.data.corpora import read_text, stdlib_text
    from tfrnn.ops import custom_ops_available
    from tfrnn.training.recipes import (char_lstm_throughput,
                                        export_if_asked, train_char_lstm)
    from tfrnn.training.runs import best_record

    if args.text:
        text, source = read_text(args.text), args.text
    else:
        text, source = stdlib_text(), "the Python standard library's source"
    print(f"corpus: {source}, {len(text):,} characters; fused op in use: "
          f"{custom_ops_available()}; workdir: {args.workdir}")
    units = args.units[0] if len(args.units) == 1 else args.units
    if args.compare_throughput:
        print(f"training throughput, {args.compare_throughput} batches of "
              f"{args.batch_size}x{args.seq_length} each ...", flush=True)
        rates = char_lstm_throughput(
            text, args.compare_throughput, units=units,
            num_layers=args.layers, embedding_dim=args.embedding_dim,
            dropout=args.dropout, seq_length=args.seq_length,
            batch_size=args.batch_size, seed=args.seed, cell=args.cell)
        name = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}[args.cell]
        print(f"  tfrnn {name} layers {rates['tfrnn']:,.0f} chars/s, "
              f"keras.layers.{name} {rates['keras']:,.0f} chars/s: "
              f"{rates['tfrnn'] / rates['keras']:.2f}x", flush=True)
    model, history, seconds = train_char_lstm(
        text, args.workdir, epochs=args.epochs, units=units,
        num_layers=args.layers, embedding_dim=args.embedding_dim,
        dropout=args.dropout, seq_length=args.seq_length,
        batch_size=args.batch_size, learning_rate=args.learning_rate,
        decay_epochs=args.decay_epochs, steps_per_epoch=args.steps_per_epoch,
        stateful=args.stateful, seed=args.seed, verbose=args.verbose,
        cell=args.cell, lines=args.lines)
    best = best_record(args.workdir)  # over the whole run, reruns included
    print(f"best validation loss {best['best']:.4f} nats/char at epoch "
          f"{best['epoch']} of {args.epochs} (this call: "
          f"{len(history['val_loss'])} epochs, {seconds:.0f} s); saved "
          f"{os.path.join(args.workdir, 'best.keras')}")
    rates = history.get("items_per_second")
    if rates:
        print(f"training throughput: {sorted(rates)[len(rates) // 2]:,.0f} "
              "chars/s (median over epochs)")
    if args.lines:
        _line_samples(model, text, args.prime or "", args.seed)
    else:
        prime = args.prime if args.prime else text[:1]
        print("sample:\n" + model.generate(prime, args.sample_length,
                                           temperature=0.7, seed=args.seed))
    export_if_asked(model, args.export_dir, "charlstm")
    return model


def _line_samples(model, text, prime, seed, count=100):
    """Prints how many of `count` temperature-0.8 samples end by themselves
    within twice the longest training line, and the first five."""
    from tfrnn.training.recipes import text_lines

    limit = 2 * max(len(line) for line in text_lines(text))
    samples = [model.generate(prime, limit, temperature=0.8, seed=seed + k,
                              until_end=True) for k in range(count)]
    ended = sum(len(s) < len(prime) + limit for s in samples)
    print(f"{ended} of {count} samples (temperature 0.8) ended by themselves "
          f"within {limit} characters (twice the longest line); the first "
          f"five:")
    for sample in samples[:5]:
        print("  " + sample)


def _export(args):
    import keras
    import tfrnn.zoo  # noqa: F401  (registers the zoo models for loading)

    from tfrnn.export import export_for_serving

    model = keras.models.load_model(args.model, compile=False)
    path = export_for_serving(model, args.base_dir, args.name,
                              version=args.version)
    print(f"exported for TF Serving (stock ops only): {path}")


def _generate(args):
    import keras
    import tfrnn.zoo  # noqa: F401  (registers the zoo models for loading)

    model = keras.models.load_model(args.model, compile=False)
    if not callable(getattr(model, "generate", None)):
        raise ValueError(
            f"{args.model} holds a {type(model).__name__}, which does not "
            "generate text: tfrnn generate takes a CharLSTM saved by "
            "tfrnn train charlstm")
    print(model.generate(args.prime, args.length, greedy=args.greedy,
                         temperature=args.temperature, top_k=args.top_k,
                         seed=args.seed, until_end=args.until_end))


def _bench(argv):
    if "--variant" in argv:
        from tfrnn.bench import variants as bench_variants
        return bench_variants.main(argv)
    from tfrnn.bench import speed as bench
    return bench.main(argv)


def _add_train_options(char):
    char.add_argument("--text", type=_existing_file, help="UTF-8 text file "
                      "(default: the Python standard library's source)")
    char.add_argument("--workdir", default="runs/charlstm", help="best "
                      "model, logs and backups (default: %(default)s)")
    char.add_argument("--epochs", type=POSITIVE, default=10,
                      help="epochs of the whole run; a rerun with more "
                      "continues (default: %(default)s)")
    char.add_argument("--steps-per-epoch", type=POSITIVE, default=None,
                      help="batches per epoch (default: the whole corpus)")
    char.add_argument("--units", type=POSITIVE, nargs="+", default=[256],
                      help="units of every layer, or one size per layer "
                      "(e.g. 128 256) (default: 256)")
    char.add_argument("--layers", type=POSITIVE, default=None,
                      help="stacked layers (default: 2, or one per --units "
                      "size)")
    char.add_argument("--cell", choices=("lstm", "gru", "rnn"),
                      default="lstm", help="the recurrent cell "
                      "(default: %(default)s)")
    char.add_argument("--lines", action="store_true",
                      help="each non-empty line one sample between START "
                      "and END (short texts: names, tweets, titles), "
                      "bucketed by length, the loss masked on the padding; "
                      "samples then end by themselves")
    char.add_argument("--embedding-dim", type=POSITIVE, default=64,
                      help="character embedding size (default: %(default)s)")
    char.add_argument("--dropout", type=FRACTION, default=0.0,
                      help="dropout between layers (default: %(default)s)")
    char.add_argument("--seq-length", type=POSITIVE, default=100,
                      help="characters per training window "
                      "(default: %(default)s)")
    char.add_argument("--batch-size", type=POSITIVE, default=64,
                      help="windows per batch (default: %(default)s)")
    char.add_argument("--learning-rate", type=RATE, default=2e-3,
                      help="Adam's starting rate (default: %(default)s)")
    char.add_argument("--decay-epochs", type=POSITIVE, default=5,
                      help="epochs per halving of the learning rate "
                      "(default: %(default)s)")
    char.add_argument("--stateful", action="store_true",
                      help="carry states across batches (truncated BPTT)")
    char.add_argument("--prime", default=None,
                      help="start of the sample printed at the end "
                      "(default: the corpus's first character; with "
                      "--lines, nothing)")
    char.add_argument("--sample-length", type=POSITIVE, default=300,
                      help="characters of that sample (default: "
                      "%(default)s; with --lines, twice the longest line)")
    char.add_argument("--seed", type=int, default=0,
                      help="weights, batch order, dropout and sampling "
                      "(default: %(default)s)")
    char.add_argument("--compare-throughput", type=COUNT, default=0,
                      metavar="BATCHES", help="first time this many batches "
                      "of the same model with tfrnn's and with Keras's LSTM "
                      "layers and print both chars/s")
    char.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                      help="Keras's progress output (default: %(default)s)")
    char.add_argument("--export-dir", default="runs/serving",
                      help="export the best model here for TF Serving "
                      "(empty: do not export)")


def parser():
    from tfrnn import __version__

    p = _Parser(prog="tfrnn", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version",
                   version=f"tfrnn {__version__}")
    commands = p.add_subparsers(dest="command", required=True,
                                parser_class=_Parser)

    train = commands.add_parser("train", help="train a zoo model")
    models = train.add_subparsers(dest="model", required=True,
                                  parser_class=_Parser)
    char = models.add_parser("charlstm", help="character language model")
    _add_train_options(char)
    char.set_defaults(run=_train_charlstm)

    gen = commands.add_parser("generate", help="text from a CharLSTM")
    gen.add_argument("model", type=_existing_file,
                     help="a .keras file saved by tfrnn train charlstm")
    gen.add_argument("--prime", default="",
                     help="the text the sample continues (default: none, "
                     "from START)")
    gen.add_argument("--length", type=POSITIVE, default=300,
                     help="characters to generate (default: %(default)s)")
    gen.add_argument("--greedy", action="store_true",
                     help="always the likeliest character")
    gen.add_argument("--until-end", action="store_true",
                     help="one line, as a --lines model learnt them: stops "
                     "when the model ends it (or after --length)")
    gen.add_argument("--temperature", type=RATE, default=1.0,
                     help="sampling temperature (default: %(default)s)")
    gen.add_argument("--top-k", type=POSITIVE, default=None,
                     help="sample from the k likeliest characters only")
    gen.add_argument("--seed", type=int, default=0,
                     help="sampling seed (default: %(default)s)")
    gen.set_defaults(run=_generate)

    export = commands.add_parser(
        "export", help="a saved zoo model -> SavedModel for TF Serving")
    export.add_argument("model", type=_existing_file,
                        help="a .keras file of a zoo model")
    export.add_argument("base_dir", help="the serving root; the export goes "
                        "to BASE_DIR/NAME/VERSION")
    export.add_argument("--name", required=True,
                        help="the model's name in TF Serving")
    export.add_argument("--version", type=POSITIVE, default=None,
                        help="default: one more than the newest")
    export.set_defaults(run=_export)

    # Listed for --help; its options are the benchmark's own (see main).
    commands.add_parser("bench", help="fused op vs Keras and others "
                        "(tfrnn bench --help)", add_help=False)
    return p


def recipe(defaults, default_text, fallback, argv=None):
    """A zoo/ recipe's `tfrnn train charlstm` run: its defaults, then the
    caller's options; on `default_text` (a corpus beside the checkout)
    unless --text is given or that file is missing, when `fallback` says
    what is trained on instead."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--text" not in argv and os.path.isfile(default_text):
        argv = ["--text", os.path.normpath(default_text)] + argv
    elif "--text" not in argv:
        print(f"{os.path.normpath(default_text)} is not here; {fallback}")
    return main(["train", "charlstm"] + list(defaults) + argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # every further option is the benchmark's
        return _bench(argv[1:])
    try:
        args = parser().parse_args(argv)
    except SystemExit as done:  # --help, --version, or a bad argument
        return done.code
    from tfrnn.training.runs import RunFinished

    try:
        args.run(args)
    except RunFinished as done:
        print(f"tfrnn {args.command}: {done}")
        return 0
    except (ValueError, TypeError, OSError) as err:  # OSError: files, dirs
        print(f"tfrnn {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        again = ("run the same command again to resume from the last "
                 "finished epoch" if args.command == "train" else "")
        print(f"\ntfrnn {args.command}: interrupted"
              + (f"; {again}" if again else ""), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
