"""Training workflows of the zoo models, shared by the `tfrnn` command line
and the recipes under zoo/: data, model, optimiser defaults, callbacks,
export of the result."""

import hashlib
import os
import time

import keras
import numpy as np
import tensorflow as tf

from tfrnn.data.bucketing import bucket_boundaries, bucket_by_length
from tfrnn.data.tfds_adapters import seq2seq_batches
from tfrnn.data.vocab import END, START, Vocabulary
from tfrnn.data.windows import stream_windows
from tfrnn.export import export_for_serving
from tfrnn.training.callbacks import (ResetStates, Throughput,
                                      backed_up_epochs, decaying_adam,
                                      recipe_callbacks)
from tfrnn.training.losses import MaskedSparseCategoricalCrossentropy
from tfrnn.training.runs import check_rerun
from tfrnn.zoo.char_lstm import CharLSTM
from tfrnn.zoo.generator import ConditionedGenerator
from tfrnn.zoo.seq2seq import Seq2Seq


def char_windows(ids, seq_length, batch_size, shuffle, seed=0):
    """Non-overlapping (inputs, next-char targets) windows of an id array,
    in an order fixed by `seed` when shuffled."""
    count = (len(ids) - 1) // seq_length
    if count < 1:
        raise ValueError(f"{len(ids)} characters are too few for one window "
                         f"of {seq_length}")
    inputs = ids[:count * seq_length].reshape(count, seq_length)
    targets = ids[1:count * seq_length + 1].reshape(count, seq_length)
    data = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        data = data.shuffle(count, seed=seed, reshuffle_each_iteration=False)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def char_datasets(ids, seq_length, batch_size, stateful,
                  validation_fraction=0.1, seed=0):
    """(epoch -> training batches, validation batches): the first 90% of
    the text trains, the rest validates. Each epoch's order comes from
    seed + epoch. Stateful models get contiguous streams of a fixed batch
    size, in order."""
    split = int(len(ids) * (1 - validation_fraction))
    train_ids, valid_ids = ids[:split], ids[split:]
    if stateful:
        streams = stream_windows(train_ids, batch_size, seq_length)
        return (lambda epoch: streams,
                stream_windows(valid_ids, batch_size, seq_length))
    return (lambda epoch: char_windows(train_ids, seq_length, batch_size,
                                       shuffle=True, seed=seed + epoch),
            char_windows(valid_ids, seq_length, batch_size, shuffle=False))


def epoch_ordered(batches_for_epoch, first_epoch, epochs, steps):
    """One dataset of `steps` batches per epoch from first_epoch on, epoch
    e's being batches_for_epoch(e) (repeated if short). Batch order then
    depends on the epoch alone, so a run resumed from a backup sees what
    an uninterrupted run sees."""
    per_epoch = [batches_for_epoch(e).repeat().take(steps)
                 for e in range(first_epoch, max(epochs, first_epoch + 1))]
    data = per_epoch[0]
    for more in per_epoch[1:]:
        data = data.concatenate(more)
    return data.prefetch(tf.data.AUTOTUNE)


def fit_recipe(model, train, valid, workdir, loss, epochs, batches,
               learning_rate, decay_epochs, steps_per_epoch=None,
               callbacks=(), verbose=1, tensorboard=True, metrics=None,
               settings=None):
    """Builds, compiles and fits a zoo model the recipes' way (clipped,
    decaying Adam; best.keras, backup, TensorBoard in workdir). `train` is
    a dataset, or a function epoch -> that epoch's batches (the order a
    resumed run reproduces; see epoch_ordered). `settings` (JSON values)
    identify the run: a rerun in the same workdir must have the same
    (tfrnn.training.runs). Returns (the best model reloaded from
    best.keras, history dict of this call's epochs, seconds)."""
    check_rerun(workdir, dict(settings or {}, learning_rate=learning_rate,
                              decay_epochs=decay_epochs), epochs)
    if callable(train):
        first = backed_up_epochs(workdir)
        steps_per_epoch = steps_per_epoch or batches
        train = epoch_ordered(train, first, epochs, steps_per_epoch)
    model(next(iter(train))[0])  # built, as BackupAndRestore requires
    model.compile(
        optimizer=decaying_adam(learning_rate, decay_epochs * batches),
        loss=loss, metrics=metrics)
    start = time.perf_counter()
    history = model.fit(
        train, epochs=epochs, steps_per_epoch=steps_per_epoch,
        validation_data=valid, shuffle=False, verbose=verbose,
        callbacks=recipe_callbacks(workdir, tensorboard=tensorboard) +
        list(callbacks))
    seconds = time.perf_counter() - start
    best = keras.models.load_model(os.path.join(workdir, "best.keras"),
                                   compile=False)
    return best, history.history, seconds


def counted(data):
    """The dataset with its batch count made known to Keras (bucketing and
    filtering hide it): progress bars show totals, epochs end cleanly."""
    count = sum(1 for _ in data)
    return data.apply(tf.data.experimental.assert_cardinality(count)) \
        .prefetch(tf.data.AUTOTUNE), count


def text_lines(text):
    """The non-empty lines of `text` (each one sample of per-line
    training), whitespace at their ends removed."""
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line]


def line_datasets(model, lines, batch_size, validation_fraction=0.1,
                  seed=0):
    """(epoch -> training batches, validation batches, training batch
    count, mean characters a batch) for per-line training: each line is
    START line END, inputs all but the last id and targets all but the
    first, batched by length (bucketed) and padded with PAD, which the
    masked loss skips. A held-out fraction of the lines (drawn by `seed`)
    validates; each epoch's order comes from seed + epoch."""
    if len(lines) < 2:
        raise ValueError(f"{len(lines)} non-empty lines are too few to train "
                         f"and validate on")
    order = np.random.default_rng(seed).permutation(len(lines))
    held = max(1, int(len(lines) * validation_fraction))
    samples = [np.concatenate([[START], model.encode(line), [END]])
               .astype(np.int32) for line in lines]
    train = [samples[i] for i in order[held:]]
    valid = [samples[i] for i in order[:held]]
    boundaries = bucket_boundaries([len(x) - 1 for x in train], 8)

    def batches(rows, order_seed=None):
        data = tf.data.Dataset.from_generator(
            lambda: iter(rows), output_signature=tf.TensorSpec([None],
                                                               tf.int32))
        if order_seed is not None:
            data = data.shuffle(len(rows), seed=order_seed,
                                reshuffle_each_iteration=False)
        pairs = data.map(lambda ids: (ids[:-1], ids[1:]))
        return bucket_by_length(pairs, batch_size, boundaries)

    _, steps = counted(batches(train, seed))
    valid_batches, _ = counted(batches(valid))
    mean_chars = sum(len(x) - 1 for x in train) / max(steps, 1)
    return (lambda epoch: batches(train, seed + epoch), valid_batches,
            steps, mean_chars)


def train_char_lstm(text, workdir, epochs=10, units=256, num_layers=None,
                    embedding_dim=64, dropout=0.0, seq_length=100,
                    batch_size=64, learning_rate=2e-3, decay_epochs=5,
                    steps_per_epoch=None, stateful=False, seed=0, verbose=1,
                    tensorboard=True, callbacks=(), cell="lstm",
                    lines=False):
    """Trains a CharLSTM on `text` with `model.fit`: windows of a stream
    (the first 90% trains, the rest validates), or with `lines` each
    non-empty line as one sample between START and END (line_datasets:
    bucketed, the loss masked on the padding, 10% of the lines held out).

    Returns (model with the best validation loss, history dict, seconds).
    Adam with gradients clipped at global norm 5; the rate halves every
    decay_epochs epochs. workdir keeps best.keras, a backup to resume from
    and TensorBoard logs.
    """
    if lines and stateful:
        raise ValueError("lines and stateful cannot be combined: each line "
                         "is a sample of its own")
    keras.utils.set_random_seed(seed)
    samples = text_lines(text) if lines else None
    # Per line, the newlines are no character of the model's.
    model = CharLSTM(CharLSTM.tokens_of("".join(samples) if lines else text),
                     units=units, num_layers=num_layers,
                     embedding_dim=embedding_dim, dropout=dropout,
                     stateful=stateful, cell=cell)
    if lines:
        train, valid, steps, chars = line_datasets(model, samples,
                                                   batch_size, seed=seed)
        loss = MaskedSparseCategoricalCrossentropy()
    else:
        train, valid = char_datasets(model.encode(text), seq_length,
                                     batch_size, stateful, seed=seed)
        steps, chars = int(train(0).cardinality()), batch_size * seq_length
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    settings = dict(units=units, num_layers=model.num_layers,
                    embedding_dim=embedding_dim, dropout=dropout,
                    seq_length=seq_length, batch_size=batch_size,
                    steps_per_epoch=steps_per_epoch, stateful=stateful,
                    seed=seed, corpus=corpus_fingerprint(text))
    if cell != "lstm" or lines:  # (absent from the records of older runs)
        settings.update(cell=cell, lines=lines)
    return fit_recipe(
        model, train, valid, workdir, loss, epochs, steps_per_epoch or steps,
        learning_rate, decay_epochs, steps_per_epoch=steps_per_epoch,
        settings=settings,
        callbacks=([ResetStates()] if stateful else [])
        + [Throughput(chars)] + list(callbacks),
        verbose=verbose, tensorboard=tensorboard)


def corpus_fingerprint(text):
    """A short digest naming a corpus in a run's record."""
    return f"{len(text)} chars, sha256 " + hashlib.sha256(
        text.encode("utf-8")).hexdigest()[:16]


def char_lstm_throughput(text, batches=20, units=256, num_layers=None,
                         embedding_dim=64, dropout=0.0, seq_length=100,
                         batch_size=64, seed=0, cell="lstm"):
    """Training speed (characters/s) of the same CharLSTM with tfrnn's
    fused layers of `cell` and with Keras's own: `batches` batches of the
    same text through model.fit each, after one untimed batch (tracing).
    Returns {"tfrnn": chars/s, "keras": chars/s}."""
    tokens = CharLSTM.tokens_of(text)
    rates = {}
    for rnn in ("tfrnn", "keras"):
        keras.utils.set_random_seed(seed)
        model = CharLSTM(tokens, units=units, num_layers=num_layers,
                         embedding_dim=embedding_dim, dropout=dropout,
                         rnn=rnn, cell=cell)
        data = char_windows(model.encode(text), seq_length, batch_size,
                            shuffle=True, seed=seed).repeat()
        model.compile(optimizer=decaying_adam(2e-3, 1000),
                      loss=keras.losses.SparseCategoricalCrossentropy(
                          from_logits=True))
        meter = Throughput(batch_size * seq_length)
        model.fit(data, epochs=1, steps_per_epoch=batches + 1, verbose=0,
                  shuffle=False, callbacks=[meter])
        rates[rnn] = meter.rates[-1]
    return rates


def nats_per_char(model, text, seq_length=100, batch_size=64):
    """Mean cross-entropy of the model's next-character predictions."""
    ids = model.encode(text)
    data = char_windows(ids, seq_length, batch_size, shuffle=False)
    losses = []
    for inputs, targets in data:
        logits = model(inputs, training=False)
        losses.append(keras.losses.sparse_categorical_crossentropy(
            targets, logits, from_logits=True).numpy().ravel())
    return float(np.mean(np.concatenate(losses)))


def exact_match(model, sources, targets, beam_width=1, batch_size=512):
    """Fraction of `sources` a Seq2Seq translates exactly into `targets`."""
    hits = 0
    for i in range(0, len(sources), batch_size):
        got = model.translate(sources[i:i + batch_size], beam_width)
        hits += sum(g == t for g, t in zip(got, targets[i:i + batch_size]))
    return hits / max(1, len(sources))


def train_seq2seq(train_pairs, valid_pairs, workdir, attention="luong",
                  epochs=10, units=128, embedding_dim=64, batch_size=64,
                  learning_rate=2e-3, decay_epochs=5, level="char",
                  max_decode_length=None, seed=0, verbose=1,
                  tensorboard=True):
    """Trains a Seq2Seq on (source, target) string pairs with teacher
    forcing and a loss over the real target tokens only.

    Returns (model with the best validation loss, history dict, seconds).
    """
    keras.utils.set_random_seed(seed)
    sources, targets = map(list, zip(*train_pairs))
    source_vocab = Vocabulary.from_texts(sources, level=level)
    target_vocab = Vocabulary.from_texts(targets, level=level)
    if max_decode_length is None:
        longest = max(len(target_vocab.split(t)) for t in targets[:1000])
        max_decode_length = 2 * longest + 2
    model = Seq2Seq(source_vocab.get_config()["tokens"],
                    target_vocab.get_config()["tokens"], level=level,
                    embedding_dim=embedding_dim, units=units,
                    attention=attention, max_decode_length=max_decode_length)

    def batches(pairs, order_seed=None):
        data = tf.data.Dataset.from_tensor_slices(tuple(map(list, zip(*pairs))))
        if order_seed is not None:
            data = data.shuffle(len(pairs), seed=order_seed,
                                reshuffle_each_iteration=False)
        return seq2seq_batches(data, source_vocab, target_vocab, batch_size)

    # Bucketing makes the same number of batches in any order.
    _, steps = counted(batches(train_pairs, seed))
    valid, _ = counted(batches(valid_pairs))
    return fit_recipe(model, lambda e: batches(train_pairs, seed + e),
                      valid, workdir,
                      MaskedSparseCategoricalCrossentropy(), epochs, steps,
                      learning_rate, decay_epochs, verbose=verbose,
                      tensorboard=tensorboard)


def teacher_forcing(vocab, texts):
    """Texts -> (decoder inputs from START, targets ending with END), both
    padded with PAD to one length."""
    ids = vocab.encode(texts, add_start=True, add_end=True).to_tensor()
    return ids[:, :-1], ids[:, 1:]


def train_generator(features, texts, valid_features, valid_texts, workdir,
                    epochs=20, units=128, embedding_dim=32, batch_size=64,
                    learning_rate=5e-3, decay_epochs=8, level="char",
                    seed=0, verbose=1, tensorboard=True):
    """Trains a ConditionedGenerator: features [N, F] -> texts."""
    keras.utils.set_random_seed(seed)
    vocab = Vocabulary.from_texts(texts, level=level)
    longest = max(len(vocab.split(t)) for t in texts[:1000])
    model = ConditionedGenerator(vocab.get_config()["tokens"], level=level,
                                 embedding_dim=embedding_dim, units=units,
                                 max_decode_length=2 * longest + 2)

    def batches(x, y, order_seed=None):
        decoder_in, targets = teacher_forcing(vocab, y)
        data = tf.data.Dataset.from_tensor_slices(((x, decoder_in), targets))
        if order_seed is not None:
            data = data.shuffle(len(x), seed=order_seed,
                                reshuffle_each_iteration=False)
        return data.batch(batch_size)

    valid = batches(valid_features, valid_texts)
    steps = int(batches(features, texts).cardinality())
    return fit_recipe(model, lambda e: batches(features, texts, seed + e),
                      valid, workdir, MaskedSparseCategoricalCrossentropy(),
                      epochs, steps, learning_rate, decay_epochs,
                      verbose=verbose, tensorboard=tensorboard)


def train_classifier(model, train, valid, workdir, epochs=10,
                     learning_rate=2e-3, decay_epochs=5, verbose=1,
                     tensorboard=True):
    """Trains a SequenceClassifier on batched (inputs, label) datasets."""
    train, steps = counted(train)
    valid, _ = counted(valid)
    return fit_recipe(
        model, train, valid, workdir,
        keras.losses.SparseCategoricalCrossentropy(from_logits=True), epochs,
        steps, learning_rate, decay_epochs, verbose=verbose,
        tensorboard=tensorboard, metrics=["accuracy"])


def export_if_asked(model, export_dir, name):
    """Exports the model for TF Serving under export_dir/name/<next
    version> and says where, when export_dir is set."""
    if not export_dir:
        return None
    path = export_for_serving(model, export_dir, name)
    print(f"exported for TF Serving (stock ops only): {path}")
    return path
