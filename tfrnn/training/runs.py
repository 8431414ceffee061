"""What a workdir remembers of its run, so a rerun never destroys a result:
the settings it was trained with (workdir/run.json). A rerun with the same
settings continues the run (more epochs extend a finished one) and compares
new models against the best so far; one with other settings, or one asking
for no more epochs than are done, stops before any work and says why."""

import json
import os

from tfrnn.training.callbacks import backed_up_epochs, write_json_atomically

RECORD = "run.json"


class RunFinished(Exception):
    """The workdir's run already has the epochs asked for."""


def check_rerun(workdir, settings, epochs):
    """Records the run's settings in a new workdir; in one that has a run,
    raises ValueError naming a setting that differs, or RunFinished when
    `epochs` are done already."""
    path = os.path.join(workdir, RECORD)
    if not os.path.exists(path):
        os.makedirs(workdir, exist_ok=True)
        write_json_atomically(path, {"settings": settings})
        return
    with open(path) as f:
        recorded = json.load(f)["settings"]
    for name in sorted(set(recorded) | set(settings)):
        old, new = recorded.get(name), settings.get(name)
        if old != new:
            raise ValueError(
                f"{workdir} holds a run trained with {name}={old!r}; this run "
                f"has {name}={new!r}: pass the same settings to continue "
                "it, or use another workdir")
    done = backed_up_epochs(workdir)
    if done >= epochs:
        raise RunFinished(
            f"{workdir} is finished: {done} of {done} epochs done, the best "
            f"model in {os.path.join(workdir, 'best.keras')}; ask for more "
            f"epochs (e.g. --epochs {done + max(1, done // 2)}) to continue "
            "it")


def best_record(workdir):
    """{"best", "epoch", "monitor"} of workdir/best.keras, or None."""
    path = os.path.join(workdir, "best.keras.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)
