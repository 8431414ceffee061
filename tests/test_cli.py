"""The tfrnn command line: train -> generate -> export, and clear errors."""

import argparse
import json
import os
import subprocess
import sys

import keras
import pytest

import tfrnn
from tfrnn.app import cli
from tfrnn.export import versions

TEXT = "all the world's a stage, and all the men and women merely players. "


def test_train_generate_export(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT * 30, encoding="utf-8")
    workdir, serving = tmp_path / "run", tmp_path / "serving"
    assert cli.main(["train", "charlstm", "--text", str(corpus),
                     "--workdir", str(workdir), "--export-dir", str(serving),
                     "--epochs", "2", "--units", "16", "--layers", "1",
                     "--seq-length", "20", "--batch-size", "8",
                     "--sample-length", "30", "--prime", "all",
                     "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "best validation loss" in out and "sample:\nall" in out
    assert versions(serving / "charlstm") == [1]
    model = str(workdir / "best.keras")
    assert cli.main(["generate", model, "--prime", "the", "--length", "20",
                     "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["generate", model, "--prime", "the", "--length", "20",
                     "--seed", "3"]) == 0
    assert capsys.readouterr().out == first and first.startswith("the")
    assert cli.main(["export", model, str(serving), "--name",
                     "charlstm"]) == 0
    assert versions(serving / "charlstm") == [1, 2]
    assert os.path.exists(serving / "models.config")


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert cli.main(["train", "charlstm", "--text",
                     str(tmp_path / "missing.txt")]) == 2
    assert "error" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert cli.main(["train", "charlstm", "--text", str(empty)]) == 2
    assert "empty" in capsys.readouterr().err


def test_bench_passes_its_options_through(capsys):
    assert cli.main(["bench", "--configs", "2,3,4,4", "--rounds", "1",
                     "--warmup", "0", "--cell", "gru"]) == 0
    out = capsys.readouterr().out
    assert "GRU" in out and "2,3,4,4" in out


def one_line_error(capsys, argv):
    """cli.main(argv)'s exit status is 2, with one line on stderr and no
    traceback; returns the line."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("option,value,message", [
    ("--steps-per-epoch", "-3", "positive integer"),
    ("--epochs", "0", "positive integer"),
    ("--seq-length", "0", "positive integer"),
    ("--batch-size", "0", "positive integer"),
    ("--units", "ten", "not a number"),
    ("--learning-rate", "-1", "> 0"),
    ("--dropout", "1", "[0, 1)"),
])
def test_bad_numbers_are_one_line_before_any_work(capsys, option, value,
                                                  message):
    err = one_line_error(capsys, ["train", "charlstm", option, value])
    assert option in err and message in err


def test_bad_text_files_are_named(tmp_path, capsys):
    assert "is not a file" in one_line_error(
        capsys, ["train", "charlstm", "--text", str(tmp_path)])
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café au lait".encode("latin-1"))
    err = one_line_error(capsys, ["train", "charlstm", "--text",
                                  str(latin1)])
    assert "latin1.txt is not UTF-8" in err and "byte 3 is 0xe9" in err


def test_generate_on_a_model_that_cannot_generate(tmp_path, capsys):
    path = str(tmp_path / "dense.keras")
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)
    err = one_line_error(capsys, ["generate", path, "--prime", "a"])
    assert "does not generate text" in err and "Sequential" in err


def test_version_and_python_dash_m(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tfrnn {tfrnn.__version__}"
    proc = subprocess.run([sys.executable, "-m", "tfrnn", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "train" in proc.stdout


def test_every_option_has_help():
    def walk(parser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    if sub.add_help:
                        yield from walk(sub)
            elif action.dest not in ("help", "version"):
                yield parser.prog, action
    missing = [f"{prog} {a.dest}" for prog, a in walk(cli.parser())
               if not a.help and a.option_strings]
    assert not missing, missing


def test_interrupted_training_says_how_to_resume(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_train_charlstm", interrupted)
    assert cli.main(["train", "charlstm"]) == 130
    err = capsys.readouterr().err.strip()
    assert err == ("tfrnn train: interrupted; run the same command again to "
                   "resume from the last finished epoch")


def train_args(corpus, workdir, serving, *extra):
    return ["train", "charlstm", "--text", str(corpus), "--workdir",
            str(workdir), "--export-dir", str(serving), "--units", "16",
            "--layers", "1", "--seq-length", "20", "--batch-size", "8",
            "--sample-length", "10", "--verbose", "0", *extra]


def test_reruns_never_destroy_a_finished_run(tmp_path, capsys):
    """A rerun of a finished workdir says so and touches nothing; more
    --epochs continue it from the backup (the summary counts the whole
    run); other settings are refused, naming the setting."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT * 30, encoding="utf-8")
    workdir, serving = tmp_path / "run", tmp_path / "serving"
    assert cli.main(train_args(corpus, workdir, serving, "--epochs", "2")) == 0
    assert "at epoch" in capsys.readouterr().out
    best = workdir / "best.keras"
    stamp = os.stat(best).st_mtime_ns
    record = json.loads((workdir / "best.keras.json").read_text())

    assert cli.main(train_args(corpus, workdir, serving, "--epochs", "2")) == 0
    out = capsys.readouterr().out
    assert "is finished: 2 of 2 epochs" in out and "--epochs" in out
    assert os.stat(best).st_mtime_ns == stamp
    assert versions(serving / "charlstm") == [1]

    err = one_line_error(capsys, train_args(corpus, workdir, serving,
                                            "--epochs", "3", "--units", "32"))
    assert "units=16" in err and "units=32" in err

    assert cli.main(train_args(corpus, workdir, serving, "--epochs", "3")) == 0
    out = capsys.readouterr().out
    assert " of 3 (this call: 1 epochs" in out
    extended = json.loads((workdir / "best.keras.json").read_text())
    assert extended["best"] <= record["best"]  # never replaced by worse
    assert versions(serving / "charlstm") == [1, 2]
