"""What every zoo recipe trains with: callbacks that keep the best model and
a backup to resume from, both written atomically (a run killed at any
moment, even mid-save, resumes from its last complete epoch), TensorBoard
logs, and the recipes' optimiser defaults."""

import json
import os
import shutil
import tempfile
import time

import keras
import numpy as np

from tfrnn.files import share


class Throughput(keras.callbacks.Callback):
    """Training speed in items (characters, tokens) per second, per epoch:
    from the start of the epoch's second batch to the end of its last (the
    first batch can include tracing), validation excluded. Kept in `rates`
    and added to the epoch's logs as `items_per_second`."""

    def __init__(self, items_per_batch):
        super().__init__()
        self.items_per_batch = items_per_batch
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._batches = None, 0

    def on_train_batch_begin(self, batch, logs=None):
        if self._batches == 1:
            self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        self._end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self._start is None:  # a one-batch epoch: nothing to time
            return
        rate = (self._batches - 1) * self.items_per_batch / (
            self._end - self._start)
        self.rates.append(rate)
        if logs is not None:
            logs["items_per_second"] = rate


class ResetStates(keras.callbacks.Callback):
    """Starts every epoch and every evaluation from zero states (a stateful
    model's streams restart there)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model.reset_states()

    def on_test_begin(self, logs=None):
        self.model.reset_states()


def write_json_atomically(path, value):
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    with os.fdopen(fd, "w") as f:
        json.dump(value, f)
        f.flush()
        os.fsync(f.fileno())
    share(tmp)
    os.replace(tmp, path)


def _seed_states(model):
    """The model's random-number states (dropout seed generators): Keras's
    weight files leave them out, but a resumed run needs them to draw the
    masks an uninterrupted run draws."""
    return [v for v in model.variables
            if v.path.endswith("seed_generator_state")]


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """keras.callbacks.BackupAndRestore (per epoch) whose backup, weights
    with optimizer state, the random-number states and the epoch count, is
    swapped in as one directory: `state` is always complete (or, for an
    instant, `state.old` is), never half of one epoch and half of the
    next."""

    def __init__(self, backup_dir):
        # Kept after the last epoch: a rerun with more epochs continues it.
        super().__init__(backup_dir, save_freq="epoch",
                         delete_checkpoint=False)
        self._state = os.path.join(backup_dir, "state")
        self._weights_path = os.path.join(self._state, "latest.weights.h5")
        self._training_metadata_path = os.path.join(
            self._state, "training_metadata.json")

    def on_train_begin(self, logs=None):
        old = self._state + ".old"
        if not os.path.isdir(self._state) and os.path.isdir(old):
            os.rename(old, self._state)  # killed between the two renames
        self._load_model()
        rng = os.path.join(self._state, "rng.npz")
        if os.path.exists(rng):
            with np.load(rng) as saved:
                for i, variable in enumerate(_seed_states(self.model)):
                    variable.assign(saved[f"state_{i}"])

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".tmp-", dir=self.backup_dir)
        self.model.save_weights(os.path.join(staging, "latest.weights.h5"))
        np.savez(os.path.join(staging, "rng.npz"), **{
            f"state_{i}": v.numpy()
            for i, v in enumerate(_seed_states(self.model))})
        write_json_atomically(
            os.path.join(staging, "training_metadata.json"),
            {"epoch": self._current_epoch, "batch": 0})
        share(staging)
        old = self._state + ".old"
        shutil.rmtree(old, ignore_errors=True)
        if os.path.isdir(self._state):
            os.rename(self._state, old)
        os.rename(staging, self._state)
        shutil.rmtree(old, ignore_errors=True)


def backed_up_epochs(workdir):
    """How many epochs the backup in workdir holds (0 without one): where a
    restarted recipe resumes."""
    for state in ("state", "state.old"):
        path = os.path.join(workdir, "backup", state,
                            "training_metadata.json")
        if os.path.exists(path):
            with open(path) as f:
                return int(json.load(f)["epoch"])
    return 0


class KeepBest(keras.callbacks.Callback):
    """Saves the model to `path` whenever `monitor` improves (lower is
    better), through a temporary file and a rename; remembers the best
    value beside it (path + ".json") so a resumed run (`resume=True`) keeps
    comparing against it. A new run starts afresh."""

    def __init__(self, path, monitor="val_loss", resume=False):
        super().__init__()
        self.path, self.monitor = path, monitor
        self.best = float("inf")
        if resume and os.path.exists(path + ".json"):
            with open(path + ".json") as f:
                self.best = float(json.load(f)["best"])

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not value < self.best:
            return
        self.best = float(value)
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".keras",
                                   dir=directory)
        os.close(fd)
        self.model.save(tmp, overwrite=True)
        share(tmp)
        os.replace(tmp, self.path)
        write_json_atomically(self.path + ".json",
                               {"best": self.best, "epoch": epoch + 1,
                                "monitor": self.monitor})


def recipe_callbacks(workdir, monitor="val_loss", tensorboard=True):
    """Keeps `workdir/best.keras` at the best `monitor` (across reruns),
    backs training up to `workdir/backup` every epoch (a run started again
    with the same workdir resumes after the last complete epoch; the backup
    stays after the last) and logs to `workdir/logs` for TensorBoard."""
    os.makedirs(workdir, exist_ok=True)
    # A rerun of the same run (tfrnn.training.runs) compares against the
    # best model so far, never replacing it with a worse one.
    resuming = os.path.exists(os.path.join(workdir, "best.keras.json"))
    callbacks = [KeepBest(os.path.join(workdir, "best.keras"), monitor,
                          resume=resuming),
                 AtomicBackupAndRestore(os.path.join(workdir, "backup"))]
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(
            os.path.join(workdir, "logs"), write_graph=False))
    return callbacks


def decaying_adam(learning_rate, decay_steps, decay_rate=0.5, clipnorm=5.0):
    """Adam whose rate halves (decay_rate) every decay_steps, with gradients
    clipped by global norm: the recipes' defaults for recurrent nets."""
    schedule = keras.optimizers.schedules.ExponentialDecay(
        learning_rate, decay_steps=max(1, decay_steps),
        decay_rate=decay_rate)
    return keras.optimizers.Adam(schedule, global_clipnorm=clipnorm)
