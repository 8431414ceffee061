"""The op library per ISA level (setup.py builds the building CPU's best
level and the portable x86-64-v3 baseline; tfrnn/ops/loader.py loads the
first this CPU runs): every level this machine has gives the same numbers,
the baseline holds no AVX-512 instruction, and the choice of level is
right for CPUs this machine is not."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tfrnn.ops import loader
from tfrnn.ops.loader import choose_level, library

LEVELS = [{"level": "avx512", "library": "_tfrnn_ops.so",
           "cpu_flags": ["avx2", "fma", "avx512f", "avx512dq", "avx512bw",
                         "avx512vl"]},
          {"level": "x86-64-v3", "library": "_tfrnn_ops_x86_64_v3.so",
           "cpu_flags": ["avx2", "fma"]}]
AVX2_CPU = {"sse2", "avx", "avx2", "fma"}

# One forward and gradient of each cell, on fixed data, printed as JSON.
PROBE = """
import json, numpy as np, tensorflow as tf
from tfrnn import ops
from tfrnn.ops.loader import library
assert library.ops is not None, library.unavailable_reason
rng = np.random.default_rng(0)
B, T, I, H = 3, 7, 5, 19
x = tf.constant(rng.normal(size=(B, T, I)), tf.float32)
lengths = tf.constant([7, 4, 0], tf.int32)
out = {"level": library.level}
for cell, gates in (("lstm", 4), ("gru", 3), ("rnn", 1)):
    w = [tf.Variable(rng.normal(size=s).astype(np.float32) * 0.3) for s in
         ((I, gates * H), (H, gates * H),
          ((2, gates * H) if cell == "gru" else (gates * H,)))]
    states = [tf.zeros([B, H])] * (2 if cell == "lstm" else 1)
    with tf.GradientTape() as tape:
        fn = getattr(ops, cell + "_sequence")
        y = fn(x, *states, *w, sequence_length=lengths)[0]
        loss = tf.reduce_sum(y ** 2)
    grads = tape.gradient(loss, w)
    out[cell] = [y.numpy().tolist()] + [g.numpy().tolist() for g in grads]
print(json.dumps(out))
"""


def levels_this_cpu_runs():
    levels = library.build_info().get("levels") or []
    flags = loader.cpu_flags() or set()
    return [lv["level"] for lv in levels if set(lv["cpu_flags"]) <= flags]


def run_probe(level):
    env = dict(os.environ, TFRNN_ISA=level, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-c", PROBE], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_build_lists_its_levels_best_first():
    levels = library.build_info().get("levels")
    assert levels, "the build record lists no ISA levels"
    for level in levels:
        path = os.path.join(os.path.dirname(loader.__file__),
                            level["library"])
        assert os.path.exists(path), path
    widths = [len(level["cpu_flags"]) for level in levels]
    assert widths == sorted(widths, reverse=True)


def test_every_level_this_cpu_runs_gives_the_same_numbers():
    levels = levels_this_cpu_runs()
    if len(levels) < 2:
        pytest.skip(f"this CPU runs one level only: {levels}")
    results = {level: run_probe(level) for level in levels}
    first = results[levels[0]]
    for level in levels:
        assert results[level]["level"] == level
        for cell in ("lstm", "gru", "rnn"):
            for a, b in zip(first[cell], results[level][cell]):
                np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_the_baseline_holds_no_avx512_instruction():
    levels = library.build_info().get("levels") or []
    baseline = [lv for lv in levels if lv["level"] == "x86-64-v3"]
    objdump = shutil.which("objdump")
    if not baseline or objdump is None:
        pytest.skip("no x86-64-v3 library or no objdump")
    path = os.path.join(os.path.dirname(loader.__file__),
                        baseline[0]["library"])
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", path],
                          capture_output=True, text=True, check=True).stdout
    assert "%zmm" not in text and "%k1" not in text


def test_an_avx2_cpu_takes_the_baseline():
    level, why = choose_level(LEVELS, AVX2_CPU)
    assert level["level"] == "x86-64-v3" and why is None
    level, _ = choose_level(LEVELS, AVX2_CPU | set(LEVELS[0]["cpu_flags"]))
    assert level["level"] == "avx512"


def test_a_cpu_without_avx2_takes_none_and_says_why():
    level, why = choose_level(LEVELS, {"sse2", "avx"})
    assert level is None
    assert "no ISA level" in why and "x86-64-v3 (avx2 fma)" in why


def test_a_forced_level_must_be_built_and_runnable():
    level, why = choose_level(LEVELS, AVX2_CPU, forced="x86-64-v3")
    assert level["level"] == "x86-64-v3"
    level, why = choose_level(LEVELS, AVX2_CPU, forced="avx512")
    assert level is None and "avx512bw" in why
    level, why = choose_level(LEVELS, AVX2_CPU, forced="sse9")
    assert level is None and "not built" in why and "avx512" in why


def test_an_unknown_cpu_takes_the_best_level():
    level, why = choose_level(LEVELS, None)
    assert level["level"] == "avx512" and why is None
