"""The tfrnn command line: train -> generate -> export, and clear errors."""

import os

from tfrnn import cli
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
