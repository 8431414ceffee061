"""Training killed with SIGKILL mid-epoch and started again resumes from
its last complete epoch and ends with the weights of an uninterrupted run;
backups and best models are replaced atomically."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import tensorflow as tf

from tfrnn.training.callbacks import AtomicBackupAndRestore, KeepBest

DRIVER = textwrap.dedent("""
    import os, signal, sys
    import keras, numpy as np
    from tfrnn.training.recipes import train_char_lstm

    workdir, kill_epoch = sys.argv[1], int(sys.argv[2])

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == kill_epoch and batch == 3:
                os.kill(os.getpid(), signal.SIGKILL)  # mid-epoch, no cleanup

    class SaveFinal(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            np.savez(os.path.join(workdir, "final.npz"),
                     *self.model.get_weights())

    text = "the rain in spain stays mainly in the plain. " * 60
    train_char_lstm(text, workdir, epochs=4, units=16, num_layers=2,
                    embedding_dim=8, dropout=0.2, seq_length=20,
                    batch_size=8, seed=3, verbose=0, tensorboard=False,
                    callbacks=[Kill(), SaveFinal()])
""")


def train(workdir, kill_epoch=-1):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-c", DRIVER, str(workdir),
                           str(kill_epoch)], capture_output=True, text=True,
                          env=env, timeout=600)


def final_weights(workdir):
    with np.load(os.path.join(workdir, "final.npz")) as saved:
        return [saved[k] for k in sorted(saved.files,
                                         key=lambda k: int(k.split("_")[1]))]


def test_sigkill_mid_epoch_then_resume_ends_like_an_uninterrupted_run(
        tmp_path):
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    done = train(whole)
    assert done.returncode == 0, done.stderr[-3000:]
    killed = train(resumed, kill_epoch=2)
    assert killed.returncode == -signal.SIGKILL
    state = resumed / "backup" / "state" / "training_metadata.json"
    assert json.loads(state.read_text())["epoch"] == 2  # epochs 0, 1 kept
    assert not (resumed / "final.npz").exists()
    done = train(resumed)
    assert done.returncode == 0, done.stderr[-3000:]
    for a, b in zip(final_weights(whole), final_weights(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    best = json.loads((resumed / "best.keras.json").read_text())
    assert best == json.loads((whole / "best.keras.json").read_text())


def small_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    model.optimizer.build(model.trainable_variables)
    return model


def test_backup_survives_a_kill_between_its_two_renames(tmp_path):
    model = small_model()
    backup = AtomicBackupAndRestore(str(tmp_path))
    backup.set_model(model)
    backup._current_epoch = 5
    backup._save_model()
    os.rename(tmp_path / "state", tmp_path / "state.old")  # the kill point
    restored = small_model()
    again = AtomicBackupAndRestore(str(tmp_path))
    again.set_model(restored)
    again.on_train_begin()
    assert restored._initial_epoch == 5
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_best_model_is_replaced_whole_and_remembered(tmp_path):
    path = str(tmp_path / "best.keras")
    model = small_model()
    keep = KeepBest(path)
    keep.set_model(model)
    keep.on_epoch_end(0, {"val_loss": 2.0})
    first = os.stat(path).st_mtime_ns
    keep.on_epoch_end(1, {"val_loss": 3.0})  # worse: untouched
    assert os.stat(path).st_mtime_ns == first
    assert [n for n in os.listdir(tmp_path) if n.startswith(".tmp")] == []
    resumed = KeepBest(path, resume=True)  # compares against 2.0
    assert resumed.best == 2.0
    assert KeepBest(path).best == float("inf")  # a new run starts afresh
    x = tf.ones([1, 3])
    np.testing.assert_array_equal(keras.models.load_model(path)(x), model(x))


def test_training_files_are_readable_by_other_users(tmp_path):
    """best.keras, its record and the backup get the modes open() and
    makedirs() give under umask 022, not mkstemp's 0600 / mkdtemp's 0700."""
    old = os.umask(0o022)
    try:
        model = small_model()
        keep = KeepBest(str(tmp_path / "best.keras"))
        keep.set_model(model)
        keep.on_epoch_end(0, {"val_loss": 1.0})
        backup = AtomicBackupAndRestore(str(tmp_path / "backup"))
        backup.set_model(model)
        backup._save_model()
    finally:
        os.umask(old)
    for name in ("best.keras", "best.keras.json"):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o644, name
    state = tmp_path / "backup" / "state"
    assert os.stat(state).st_mode & 0o777 == 0o755
    for name in os.listdir(state):
        assert os.stat(state / name).st_mode & 0o777 == 0o644, name
