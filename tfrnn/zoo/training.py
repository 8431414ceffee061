"""What every zoo recipe trains with: the callbacks that keep the best
model, survive interruption and log to TensorBoard, and the learning-rate
schedule and clipping the recipes default to."""

import os

import keras


class ResetStates(keras.callbacks.Callback):
    """Starts every epoch and every evaluation from zero states (a stateful
    model's streams restart there)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model.reset_states()

    def on_test_begin(self, logs=None):
        self.model.reset_states()


def recipe_callbacks(workdir, monitor="val_loss", tensorboard=True):
    """Keeps `workdir/best.keras` at the best `monitor`, backs training up to
    `workdir/backup` every epoch (an interrupted run resumes where it
    stopped when started again with the same workdir) and logs to
    `workdir/logs` for TensorBoard."""
    os.makedirs(workdir, exist_ok=True)
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            os.path.join(workdir, "best.keras"), monitor=monitor,
            save_best_only=True),
        keras.callbacks.BackupAndRestore(os.path.join(workdir, "backup")),
    ]
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
