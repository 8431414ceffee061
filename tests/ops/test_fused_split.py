"""The fused ops when the recurrence is split between threads.

The CPU engine splits a recurrence between pool threads once it is worth
it, for every cell: by hidden units (panels of a packet of units, four for
the Elman RNN, the threads meeting every step) or by batch rows (never
meeting); the other op tests use small layers that run on one thread. Here
the layers are wide enough to split, with unit counts that leave partial
panels, and the results must equal the pure-TF reference and not depend on
how many threads the pool has, nor on which split TFRNN_STEP_SPLIT
forces."""

import functools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tfrnn import ops
from tfrnn.ops import reference
from rnn_problems import dropout_mask, make_problem, run_masked
from paths import TESTS

SEQUENCE = {"lstm": (ops.lstm_sequence, reference.lstm_sequence),
            "gru": (ops.gru_sequence, reference.gru_sequence),
            **{f"rnn_{n}": (functools.partial(ops.rnn_sequence,
                                              nonlinearity=n),
                            functools.partial(reference.rnn_sequence,
                                              nonlinearity=n))
               for n in ("tanh", "relu")}}

STEP = {"lstm": (ops.lstm_step, reference.lstm_step),
        "gru": (ops.gru_step, reference.gru_step),
        "rnn_relu": (functools.partial(ops.rnn_step, nonlinearity="relu"),
                     functools.partial(reference.rnn_step,
                                       nonlinearity="relu"))}
# Of the results (output, final states, then the gradients of x, the
# states, the weights): those the packed recurrence computes alone, the
# same whichever thread takes a unit of a row; the weight and input
# gradients are Eigen GEMMs split by the thread count (whose AVX2 kernels
# sum in another order for other block sizes).
BITWISE = {kind: {0, 1, 2, 4, 5}
           for kind in ("lstm", "lstm_layer_norm", "lstm_projected")}
LENGTHS = [9, 4, 0, 1, 9, 6, 9, 2, 8, 9, 3, 9, 5]  # 13 rows: 2 blocks + 1
# 150 units: 9 full panels of 16 floats (8 doubles) and a partial one; the
# backward's 64-unit (32-double) panels end partial too.
UNITS = 150

# The LSTM's layer norm (its row-wise path: split by rows only), with
# gains and a shift drawn for the problem's units.
def _layer_normed(fn, weights_arg):
    def call(x, h0, c0, kernel, recurrent_kernel, *args, **kwargs):
        units = recurrent_kernel.shape[0]
        rng = np.random.default_rng(units)
        weights = tuple(tf.constant(rng.uniform(0.5, 1.5, n), x.dtype)
                        for n in (4 * units, 4 * units, units, units))
        return fn(x, h0, c0, kernel, recurrent_kernel, *args,
                  **{weights_arg: weights}, **kwargs)
    return call


SEQUENCE["lstm_layer_norm"] = (
    _layer_normed(ops.lstm_sequence, "layer_norm"),
    _layer_normed(functools.partial(reference.lstm_sequence,
                                    layer_norm_epsilon=float(np.float32(1e-3))),
                  "layer_norm_weights"))


# The LSTM's projection (row-wise too), to h a little under half as wide
# as c: partial packets at every width here. Scaled by 1/sqrt(H), as an
# orthogonal initialisation, so h stays of the size h0 has (a larger one
# saturates the gates and grows the gradients, and with them the rounding
# differences of the two sides' summation orders).
def _projected(fn):
    def call(x, h0, c0, kernel, recurrent_kernel, *args, **kwargs):
        units, width = kernel.shape[1] // 4, recurrent_kernel.shape[0]
        rng = np.random.default_rng(units + width)
        projection = tf.constant(
            rng.normal(size=(units, width)) / np.sqrt(units), x.dtype)
        return fn(x, h0, c0, kernel, recurrent_kernel, *args,
                  projection=projection, **kwargs)
    return call


SEQUENCE["lstm_projected"] = (_projected(ops.lstm_sequence),
                              _projected(reference.lstm_sequence))


def problem_and_mask(rng, kind, batch, time, units, dtype="float32",
                     lengths=None):
    """A SEQUENCE kind's make_problem and a recurrent dropout mask of h."""
    hidden = units * 7 // 15 if kind == "lstm_projected" else None
    p = make_problem(rng, batch, time, 5, units, dtype=dtype,
                     lengths=lengths, hidden=hidden,
                     kind="lstm" if kind.startswith("lstm") else kind)
    return p, dropout_mask(rng, batch, hidden or units, dtype=dtype)


def reference_run(kind, p, mask, reverse):
    fn = SEQUENCE[kind][1]
    return run_masked(lambda *a, **k: fn(*a, **{
        **k, "sequence_length": tf.constant(p.lengths)}), p, mask, reverse)


@pytest.mark.parametrize("kind", sorted(SEQUENCE))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype,tol", [("float32", 1e-4), ("float64", 1e-10)])
def test_wide_layers_match_the_reference(kind, reverse, dtype, tol):
    rng = np.random.default_rng(5)
    p, mask = problem_and_mask(rng, kind, len(LENGTHS), 9, UNITS, dtype=dtype,
                               lengths=LENGTHS)
    got = run_masked(SEQUENCE[kind][0], p, mask, reverse)
    want = reference_run(kind, p, mask, reverse)
    for a, b in zip(got, want):
        # float64 is the exact check. In float32, sums over 150 units (and
        # gradients over 13 rows, reaching magnitudes of tens) differ from
        # the reference's in the last digits, the GRU's most.
        scale = max(1.0, float(np.abs(b).max())) if dtype == "float32" else 1
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale)


THREADS_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(int(sys.argv[1]))
    from test_fused_split import SEQUENCE, problem_and_mask
    from rnn_problems import run_masked
    results = {}
    for kind, (fn, _) in SEQUENCE.items():
        for reverse in (False, True):
            rng = np.random.default_rng(5)
            lengths = %r
            p, mask = problem_and_mask(rng, kind, len(lengths), 9, %d,
                                       lengths=lengths)
            out = run_masked(fn, p, mask, reverse)
            results[f"{kind} {reverse}"] = [a.tobytes().hex() for a in out]
    print(json.dumps(results))
""") % (LENGTHS, UNITS)


@functools.lru_cache(maxsize=None)
def results_with_threads(threads, split=None):
    """The script's results in a fresh process with `threads` intra-op
    threads; `split` ("units" or "rows") forces the LSTM's split
    (TFRNN_STEP_SPLIT)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [TESTS, os.path.dirname(os.path.abspath(__file__))] + sys.path))
    env.pop("TFRNN_STEP_SPLIT", None)
    if split is not None:
        env["TFRNN_STEP_SPLIT"] = split
    proc = subprocess.run([sys.executable, "-c", THREADS_SCRIPT, str(threads)],
                          capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def decoded(value):
    return np.frombuffer(bytes.fromhex(value), np.float32)


# None: the kernel's own choice for four threads. Forced to split the units
# of every step between four threads, or the 13 rows (4, 3, 3, 3 rows a
# part: partial register blocks).
@pytest.mark.parametrize("split", [None, "units", "rows"])
def test_results_do_not_depend_on_the_number_of_threads(split):
    """One thread (no split) and four (split in up to four parts, more
    threads than this machine may have cores) agree: bitwise for what the
    packed recurrence computes alone (BITWISE: outputs, final states and
    state gradients), to float32 rounding for the weight and input
    gradients."""
    one, four = results_with_threads(1), results_with_threads(4, split)
    assert one.keys() == four.keys() == {
        f"{kind} {reverse}" for kind in SEQUENCE for reverse in (False, True)}
    for key in one:
        kind = key.split()[0]
        # output, h_n, (c_n,) dx, dh0, (dc0,) dkernel, drecurrent, dbias
        bitwise = BITWISE.get(kind, {0, 1, 3})
        for i, (a, b) in enumerate(zip(one[key], four[key])):
            if i in bitwise:
                assert a == b, (key, i)
            else:
                a, b = decoded(a), decoded(b)
                # The GRU's sums pass through r * (h.U_n): float32 rounding
                # differences grow, as in the reference test above.
                tol = 1e-4 if kind == "gru" else 1e-5
                np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(
                    1.0, float(np.abs(b).max())), err_msg=f"{key} {i}")


@pytest.mark.parametrize("kind", sorted(SEQUENCE))
@pytest.mark.parametrize("split", ["units", "rows"])
def test_each_split_matches_the_reference(kind, split):
    got = results_with_threads(4, split)
    for reverse in (False, True):
        rng = np.random.default_rng(5)
        p, mask = problem_and_mask(rng, kind, len(LENGTHS), 9, UNITS,
                                   lengths=LENGTHS)
        want = reference_run(kind, p, mask, reverse)
        for i, (a, b) in enumerate(zip(got[f"{kind} {reverse}"], want)):
            b = np.asarray(b)
            np.testing.assert_allclose(
                decoded(a).reshape(b.shape), b, rtol=1e-4,
                atol=1e-4 * max(1.0, float(np.abs(b).max())),
                err_msg=f"{split} reverse={reverse} result {i}")


# Calls of fewer than 4 steps read the weights in place when H fills whole
# panels (a packet of 16 floats or 8 doubles with AVX-512, fewer without;
# four packets for the Elman RNN), and take h.U from Eigen when there is one
# row. These shapes reach each of those paths.
@pytest.mark.parametrize("kind", sorted(SEQUENCE))
@pytest.mark.parametrize("batch", [1, 3, 7])
@pytest.mark.parametrize("time", [1, 3])
@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("float64", 1e-10)])
def test_short_calls_with_whole_packets_match_the_reference(kind, batch, time,
                                                            dtype, tol):
    rng = np.random.default_rng(9)
    lengths = [time] + list(rng.integers(0, time + 1, size=batch - 1))
    p, mask = problem_and_mask(rng, kind, batch, time, 32, dtype=dtype,
                               lengths=lengths)
    for reverse in (False, True):
        got = run_masked(SEQUENCE[kind][0], p, mask, reverse)
        want = reference_run(kind, p, mask, reverse)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", sorted(STEP))
@pytest.mark.parametrize("batch", [1, 3, 7])
@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("float64", 1e-10)])
def test_step_op_with_whole_packets_matches_the_reference(kind, batch, dtype,
                                                          tol):
    rng = np.random.default_rng(3)
    p = make_problem(rng, batch, 1, 5, 64, dtype=dtype, kind=kind)
    inputs = [tf.constant(a) for a in
              (p.x[:, 0], *p.states, p.kernel, p.recurrent_kernel, p.bias)]

    def results(fn):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            states = tf.nest.flatten(fn(*inputs))[:len(p.states)]
            loss = sum(tf.reduce_sum(s * d)
                       for s, d in zip(states, p.d_states))
        return states + tape.gradient(loss, inputs)

    for a, b in zip(results(STEP[kind][0]), results(STEP[kind][1])):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
