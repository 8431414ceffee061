"""The `tfrnn` command line: train, generate, export, bench.

    tfrnn train charlstm [--text FILE] [--workdir DIR] [--epochs N] ...
    tfrnn generate MODEL.keras --prime "ROMEO:" [--length 300] ...
    tfrnn export MODEL.keras BASE_DIR --name NAME [--version N]
    tfrnn bench [--cell lstm|gru|rnn] [--rounds N] [--configs B,T,I,H ...]

`tfrnn train charlstm` without --text trains on the Python standard
library's own source (on every machine, no download), prints a sample,
keeps the best model in the workdir and exports it for TF Serving.
"""

import argparse
import os
import sys


def _train_charlstm(args):
    from tfrnn.data.corpora import read_text, stdlib_text
    from tfrnn.ops import custom_ops_available
    from tfrnn.zoo.recipes import (char_lstm_throughput, export_if_asked,
                                   train_char_lstm)

    if args.text:
        text, source = read_text(args.text), args.text
    else:
        text, source = stdlib_text(), "the Python standard library's source"
    print(f"corpus: {source}, {len(text):,} characters; fused op in use: "
          f"{custom_ops_available()}; workdir: {args.workdir}")
    if args.compare_throughput:
        print(f"training throughput, {args.compare_throughput} batches of "
              f"{args.batch_size}x{args.seq_length} each ...", flush=True)
        rates = char_lstm_throughput(
            text, args.compare_throughput, units=args.units,
            num_layers=args.layers, embedding_dim=args.embedding_dim,
            dropout=args.dropout, seq_length=args.seq_length,
            batch_size=args.batch_size, seed=args.seed)
        print(f"  tfrnn LSTM layers {rates['tfrnn']:,.0f} chars/s, "
              f"keras.layers.LSTM {rates['keras']:,.0f} chars/s: "
              f"{rates['tfrnn'] / rates['keras']:.2f}x", flush=True)
    model, history, seconds = train_char_lstm(
        text, args.workdir, epochs=args.epochs, units=args.units,
        num_layers=args.layers, embedding_dim=args.embedding_dim,
        dropout=args.dropout, seq_length=args.seq_length,
        batch_size=args.batch_size, learning_rate=args.learning_rate,
        decay_epochs=args.decay_epochs, steps_per_epoch=args.steps_per_epoch,
        stateful=args.stateful, seed=args.seed, verbose=args.verbose)
    val = history["val_loss"]
    best = min(range(len(val)), key=val.__getitem__)
    print(f"best validation loss {val[best]:.4f} nats/char at epoch "
          f"{best + 1} of {len(val)} (this run: {seconds:.0f} s); saved "
          f"{os.path.join(args.workdir, 'best.keras')}")
    rates = history.get("items_per_second")
    if rates:
        print(f"training throughput: {sorted(rates)[len(rates) // 2]:,.0f} "
              "chars/s (median over epochs)")
    prime = args.prime if args.prime else text[:1]
    print("sample:\n" + model.generate(prime, args.sample_length,
                                       temperature=0.7, seed=args.seed))
    export_if_asked(model, args.export_dir, "charlstm")
    return model


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
    print(model.generate(args.prime, args.length, greedy=args.greedy,
                         temperature=args.temperature, top_k=args.top_k,
                         seed=args.seed))


def _bench(argv):
    from tfrnn import bench
    bench.main(argv)


def parser():
    p = argparse.ArgumentParser(prog="tfrnn", description=__doc__.split(
        "\n")[0])
    commands = p.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a zoo model")
    models = train.add_subparsers(dest="model", required=True)
    char = models.add_parser("charlstm", help="character language model")
    char.add_argument("--text", help="UTF-8 text file (default: the Python "
                      "standard library's source)")
    char.add_argument("--workdir", default="runs/charlstm")
    char.add_argument("--epochs", type=int, default=10)
    char.add_argument("--steps-per-epoch", type=int, default=None)
    char.add_argument("--units", type=int, default=256)
    char.add_argument("--layers", type=int, default=2)
    char.add_argument("--embedding-dim", type=int, default=64)
    char.add_argument("--dropout", type=float, default=0.0)
    char.add_argument("--seq-length", type=int, default=100)
    char.add_argument("--batch-size", type=int, default=64)
    char.add_argument("--learning-rate", type=float, default=2e-3)
    char.add_argument("--decay-epochs", type=int, default=5,
                      help="epochs per halving of the learning rate")
    char.add_argument("--stateful", action="store_true",
                      help="carry states across batches (truncated BPTT)")
    char.add_argument("--prime", default=None)
    char.add_argument("--sample-length", type=int, default=300)
    char.add_argument("--seed", type=int, default=0)
    char.add_argument("--compare-throughput", type=int, default=0,
                      metavar="BATCHES", help="first time this many batches "
                      "of the same model with tfrnn's and with Keras's LSTM "
                      "layers and print both chars/s")
    char.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    char.add_argument("--export-dir", default="runs/serving",
                      help="export the best model here for TF Serving "
                      "(empty: do not export)")
    char.set_defaults(run=_train_charlstm)

    gen = commands.add_parser("generate", help="text from a CharLSTM")
    gen.add_argument("model", help="a .keras file saved by tfrnn train")
    gen.add_argument("--prime", required=True)
    gen.add_argument("--length", type=int, default=300)
    gen.add_argument("--greedy", action="store_true")
    gen.add_argument("--temperature", type=float, default=1.0)
    gen.add_argument("--top-k", type=int, default=None)
    gen.add_argument("--seed", type=int, default=0)
    gen.set_defaults(run=_generate)

    export = commands.add_parser(
        "export", help="a saved zoo model -> SavedModel for TF Serving")
    export.add_argument("model", help="a .keras file of a zoo model")
    export.add_argument("base_dir", help="the serving root; the export goes "
                        "to BASE_DIR/NAME/VERSION")
    export.add_argument("--name", required=True)
    export.add_argument("--version", type=int, default=None,
                        help="default: one more than the newest")
    export.set_defaults(run=_export)

    # Listed for --help; its options are the benchmark's own (see main).
    commands.add_parser("bench", help="fused op vs Keras and others "
                        "(tfrnn bench --help)", add_help=False)
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # every further option is the benchmark's
        _bench(argv[1:])
        return 0
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileNotFoundError, FileExistsError, TypeError) as err:
        print(f"tfrnn {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
