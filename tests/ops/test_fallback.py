"""The pure-TF fallback: when it is used, that it warns once, same numbers."""

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from tfrnn.ops import lstm as lstm_module
from tfrnn.ops import loader
from rnn_problems import make_problem, run_with_grads
from paths import ROOT



def unusable_library(tmp_path, build_info):
    """A library folder whose .so exists but whose build record says so."""
    (tmp_path / loader.LIBRARY_NAME).write_bytes(b"not a library")
    if build_info is not None:
        (tmp_path / loader.BUILD_INFO_NAME).write_text(json.dumps(build_info))
    return loader.CustomOpLibrary(str(tmp_path))


@pytest.mark.parametrize("build_info,reason", [
    ({"tensorflow_version": "2.0.0"}, "built for TensorFlow 2.0.0"),
    (None, "built for TensorFlow None"),
])
def test_library_for_another_tensorflow_is_refused_with_one_warning(
        tmp_path, build_info, reason):
    library = unusable_library(tmp_path, build_info)
    with pytest.warns(RuntimeWarning, match=reason):
        assert library.ops is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert library.ops is None  # no second warning


def test_missing_library_is_reported(tmp_path):
    library = loader.CustomOpLibrary(str(tmp_path))
    with pytest.warns(RuntimeWarning, match="is not built"):
        assert library.ops is None


def test_unloadable_library_falls_back(tmp_path):
    import tensorflow as tf
    library = unusable_library(tmp_path,
                               {"tensorflow_version": tf.__version__})
    with pytest.warns(RuntimeWarning, match="loading .* failed"):
        assert library.ops is None


@pytest.mark.parametrize("reverse", [False, True])
def test_fallback_gives_the_same_numbers(tmp_path, monkeypatch, reverse):
    p = make_problem(np.random.default_rng(0), 4, 7, 3, 5,
                     lengths=[7, 3, 0, 6])

    def run():
        return run_with_grads(lambda *a: lstm_module.lstm_sequence(
            *a, sequence_length=p.lengths, reverse=reverse), p)

    fused = run()
    with pytest.warns(RuntimeWarning):
        monkeypatch.setattr(loader, "library",
                            loader.CustomOpLibrary(str(tmp_path)))
        fallback = run()
    for a, b in zip(fused[0] + fused[1], fallback[0] + fallback[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_disable_variable_selects_fallback_in_a_fresh_process():
    script = textwrap.dedent("""
        import warnings
        import numpy as np
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from tfrnn import ops
            x = np.ones((2, 3, 4), np.float32)
            w = np.full((4, 8), 0.1, np.float32)
            u = np.full((2, 8), 0.1, np.float32)
            s = np.zeros((2, 2), np.float32)
            for _ in range(3):
                y, h, c = ops.lstm_sequence(x, s, s, w, u, np.zeros(8, "f"))
        ours = [w for w in caught if "tfrnn" in str(w.message)]
        print(len(ours), ops.custom_ops_available(), float(h.numpy().sum()))
    """)
    env = dict(os.environ, TFRNN_DISABLE_CUSTOM_OPS="1",
               TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    count, available, total = out.stdout.split()
    assert (count, available) == ("1", "False")
    # h of a 2-unit LSTM after 3 steps on this input, computed by the op.
    from tfrnn import ops
    x = np.ones((2, 3, 4), np.float32)
    _, h, _ = ops.lstm_sequence(x, np.zeros((2, 2), "f"), np.zeros((2, 2), "f"),
                                np.full((4, 8), 0.1, "f"),
                                np.full((2, 8), 0.1, "f"), np.zeros(8, "f"))
    assert ops.custom_ops_available()
    np.testing.assert_allclose(float(total), float(h.numpy().sum()), rtol=1e-5)
