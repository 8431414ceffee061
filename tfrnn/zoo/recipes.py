"""Training workflows of the zoo models, shared by the `tfrnn` command line
and the recipes under zoo/: data, model, optimiser defaults, callbacks."""

import os
import time

import keras
import numpy as np
import tensorflow as tf

from tfrnn.data.bucketing import MaskedSparseCategoricalCrossentropy
from tfrnn.data.tfds_adapters import seq2seq_batches
from tfrnn.data.vocab import Vocabulary
from tfrnn.data.windows import stream_windows
from tfrnn.zoo.char_lstm import CharLSTM
from tfrnn.zoo.seq2seq import Seq2Seq
from tfrnn.zoo.training import ResetStates, decaying_adam, recipe_callbacks


def char_windows(ids, seq_length, batch_size, shuffle, seed=0):
    """Non-overlapping (inputs, next-char targets) windows of an id array."""
    count = (len(ids) - 1) // seq_length
    if count < 1:
        raise ValueError(f"{len(ids)} characters are too few for one window "
                         f"of {seq_length}")
    inputs = ids[:count * seq_length].reshape(count, seq_length)
    targets = ids[1:count * seq_length + 1].reshape(count, seq_length)
    data = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        data = data.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def char_datasets(ids, seq_length, batch_size, stateful,
                  validation_fraction=0.1):
    """(train, validation) datasets: the first 90% of the text trains, the
    rest validates. Stateful models get contiguous streams of a fixed
    batch size."""
    split = int(len(ids) * (1 - validation_fraction))
    train_ids, valid_ids = ids[:split], ids[split:]
    if stateful:
        return (stream_windows(train_ids, batch_size, seq_length),
                stream_windows(valid_ids, batch_size, seq_length))
    return (char_windows(train_ids, seq_length, batch_size, shuffle=True),
            char_windows(valid_ids, seq_length, batch_size, shuffle=False))


def train_char_lstm(text, workdir, epochs=10, units=256, num_layers=2,
                    embedding_dim=64, dropout=0.0, seq_length=100,
                    batch_size=64, learning_rate=2e-3, decay_epochs=5,
                    steps_per_epoch=None, stateful=False, seed=0, verbose=1,
                    tensorboard=True):
    """Trains a CharLSTM on `text` (90/10 split) with `model.fit`.

    Returns (model with the best validation loss, history dict, seconds).
    Adam with gradients clipped at global norm 5; the rate halves every
    decay_epochs epochs. workdir keeps best.keras, a backup to resume from
    and TensorBoard logs.
    """
    keras.utils.set_random_seed(seed)
    model = CharLSTM(CharLSTM.tokens_of(text), units=units,
                     num_layers=num_layers, embedding_dim=embedding_dim,
                     dropout=dropout, stateful=stateful)
    ids = model.encode(text)
    train, valid = char_datasets(ids, seq_length, batch_size, stateful)
    if steps_per_epoch:
        train = train.repeat()
    batches = steps_per_epoch or int(train.cardinality())
    model(next(iter(train))[0])  # built, as BackupAndRestore requires
    model.compile(
        optimizer=decaying_adam(learning_rate, decay_epochs * batches),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    callbacks = recipe_callbacks(workdir, tensorboard=tensorboard)
    if stateful:
        callbacks.append(ResetStates())
    start = time.perf_counter()
    history = model.fit(train, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        validation_data=valid, callbacks=callbacks,
                        shuffle=False,
                        verbose=verbose)
    seconds = time.perf_counter() - start
    best = keras.models.load_model(os.path.join(workdir, "best.keras"),
                                   compile=False)
    return best, history.history, seconds


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

    def batches(pairs, shuffle):
        data = tf.data.Dataset.from_tensor_slices(tuple(map(list, zip(*pairs))))
        if shuffle:
            data = data.shuffle(len(pairs), seed=seed,
                                reshuffle_each_iteration=True)
        data = seq2seq_batches(data, source_vocab, target_vocab, batch_size)
        # Bucketing hides the batch count; tell Keras (progress bar, epochs).
        count = sum(1 for _ in data)
        return data.apply(tf.data.experimental.assert_cardinality(count)) \
            .prefetch(tf.data.AUTOTUNE), count

    (train, steps), (valid, _) = (batches(train_pairs, True),
                                  batches(valid_pairs, False))
    model(next(iter(train))[0])  # built, as BackupAndRestore requires
    model.compile(optimizer=decaying_adam(learning_rate, decay_epochs * steps),
                  loss=MaskedSparseCategoricalCrossentropy())
    start = time.perf_counter()
    history = model.fit(train, epochs=epochs, validation_data=valid,
                        callbacks=recipe_callbacks(workdir,
                                                   tensorboard=tensorboard),
                        shuffle=False, verbose=verbose)
    seconds = time.perf_counter() - start
    best = keras.models.load_model(os.path.join(workdir, "best.keras"),
                                   compile=False)
    return best, history.history, seconds
