"""Train a small character LSTM on an embedded default corpus, then sample.

    python -m tfrnn.demo [--text FILE] [--epochs 3] [--steps 150]

The default corpus is the Python standard library's own source files, which
every machine running this has, so the demo needs no download. Training uses
`tfrnn.layers.LSTM` (the fused whole-sequence op) with plain `model.fit`;
sampling runs the trained weights one character at a time through the fused
single-step op. It prints the validation loss in nats per character before
and after training, and a sample.
"""

import argparse
import glob
import os
import sysconfig
import time

import numpy as np
import tensorflow as tf
import keras

import tfrnn
from tfrnn.ops import lstm_step

STDLIB_MODULES = ["textwrap", "string", "argparse", "csv", "shlex",
                  "difflib", "heapq", "bisect", "fractions", "calendar"]


def stdlib_text(max_chars=400_000):
    """Source of a fixed list of standard-library modules (~400 kB)."""
    root = sysconfig.get_paths()["stdlib"]
    paths = [os.path.join(root, m + ".py") for m in STDLIB_MODULES]
    paths = [p for p in paths if os.path.exists(p)]
    if not paths:  # an unusual layout: take whatever .py files are there
        paths = sorted(glob.glob(os.path.join(root, "*.py")))
    text = "".join(open(p, encoding="utf-8", errors="replace").read()
                   for p in paths)
    return text[:max_chars]


def windows(ids, length, batch_size, shuffle):
    """(input, next-char target) windows of `length` over an id array."""
    count = (len(ids) - 1) // length
    inputs = ids[:count * length].reshape(count, length)
    targets = ids[1:count * length + 1].reshape(count, length)
    data = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        data = data.shuffle(count, seed=0, reshuffle_each_iteration=True)
    return data.batch(batch_size, drop_remainder=True).prefetch(2)


def build_model(vocab_size, units):
    inputs = keras.Input((None,), dtype="int32")
    h = keras.layers.Embedding(vocab_size, 64)(inputs)
    h = tfrnn.layers.LSTM(units, return_sequences=True, name="lstm")(h)
    logits = keras.layers.Dense(vocab_size, name="logits")(h)
    return keras.Model(inputs, logits)


def sample(model, chars, prime, length, temperature, seed):
    """Generates `length` characters after `prime`, one fused step each."""
    index = {c: i for i, c in enumerate(chars)}
    embed = model.get_layer(index=1).embeddings
    cell = model.get_layer("lstm").cell
    dense = model.get_layer("logits")
    h = c = tf.zeros([1, cell.units])
    rng = np.random.default_rng(seed)
    out = []
    ids = [index.get(ch, 0) for ch in prime] or [0]
    for step in range(len(ids) + length):
        current = ids[step] if step < len(ids) else out[-1]
        x = tf.gather(embed, [current])
        h, c = lstm_step(x, h, c, cell.kernel, cell.recurrent_kernel, cell.bias)
        if step >= len(ids) - 1:
            logits = dense(h)[0].numpy().astype("float64") / temperature
            p = np.exp(logits - logits.max())
            out.append(int(rng.choice(len(chars), p=p / p.sum())))
    return prime + "".join(chars[i] for i in out[:length])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", help="a UTF-8 text file (default: the "
                        "Python standard library's source)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=150,
                        help="training batches per epoch")
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--seq-length", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sample-length", type=int, default=300)
    args = parser.parse_args(argv)

    if args.text:
        with open(args.text, encoding="utf-8") as f:
            text = f.read()
        source = args.text
    else:
        text = stdlib_text()
        source = "the Python standard library's source"
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    ids = np.array([lookup[c] for c in text], np.int32)
    split = int(len(ids) * 0.9)
    train = windows(ids[:split], args.seq_length, args.batch_size, True)
    valid = windows(ids[split:], args.seq_length, args.batch_size, False)
    print(f"corpus: {source}, {len(text):,} characters, {len(chars)} "
          f"distinct; fused op in use: {tfrnn.ops.custom_ops_available()}")

    keras.utils.set_random_seed(0)
    model = build_model(len(chars), args.units)
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3, global_clipnorm=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = model.evaluate(valid, verbose=0)
    print(f"validation loss before training: {before:.3f} nats/char "
          f"(uniform guess: {np.log(len(chars)):.3f})")
    start = time.perf_counter()
    model.fit(train.repeat(), epochs=args.epochs,
              steps_per_epoch=args.steps, validation_data=valid, shuffle=False,
              verbose=2)
    seconds = time.perf_counter() - start
    after = model.evaluate(valid, verbose=0)
    chars_seen = args.epochs * args.steps * args.batch_size * args.seq_length
    print(f"validation loss after {args.epochs} epochs: {after:.3f} "
          f"nats/char; trained {chars_seen:,} chars in {seconds:.0f} s "
          f"({chars_seen / seconds:,.0f} chars/s)")
    print("sample:\n" + sample(model, chars, "def ", args.sample_length,
                               temperature=0.7, seed=0))


if __name__ == "__main__":
    main()
