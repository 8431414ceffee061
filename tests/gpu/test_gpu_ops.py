"""The fused ops' GPU kernels inside TensorFlow.

On a machine with a GPU and a CUDA build of the op library: every op on the
GPU against the same op on the CPU (outputs and gradients, lengths with
empty rows, reverse, the recurrent mask, float32 and float64), bitwise
repeatable gradients, the single step, the CPU's InvalidArgument messages,
and a layer placed on the GPU running there. Those skip elsewhere; what runs
everywhere is that the library's GPU kernels are registered exactly when
its build says it has them.
"""

import functools

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import kernels

import tfrnn
from tfrnn import ops
from tfrnn.ops.loader import library
from rnn_problems import make_problem, run_with_grads

OPS = [f"Tfrnn{cell}{kind}" for cell in ("Lstm", "Gru", "Rnn")
       for kind in ("", "Grad", "Step")]
HAS_GPU = bool(tf.config.list_physical_devices("GPU"))
needs_gpu = pytest.mark.skipif(
    not HAS_GPU or not library.build_info().get("cuda"),
    reason="needs a GPU and the op library built with CUDA (TFRNN_CUDA=1)")
TOLERANCE = {"float32": (1e-5, 1e-4), "float64": (1e-10, 1e-10)}


def devices_of(op_name):
    return {k.device_type for k in
            kernels.get_registered_kernels_for_op(op_name).kernel}


def test_gpu_kernels_registered_exactly_when_built_with_cuda():
    if not tfrnn.ops.custom_ops_available():
        pytest.skip(library.unavailable_reason)
    built = bool(library.build_info().get("cuda"))
    for op_name in OPS:
        assert ("GPU" in devices_of(op_name)) == built, op_name
        assert "CPU" in devices_of(op_name), op_name


def sequence(kind, p, lengths, reverse, mask):
    """(output, final states..., gradients...) of one op on the current
    device, for the problem's linear loss."""
    options = dict(sequence_length=lengths, reverse=reverse,
                   recurrent_mask=mask)
    if kind == "lstm":
        fn = functools.partial(ops.lstm_sequence, **options)
    elif kind == "gru":
        fn = functools.partial(ops.gru_sequence, **options)
    else:
        fn = functools.partial(ops.rnn_sequence, nonlinearity=kind[4:],
                               **options)
    results, grads = run_with_grads(fn, p)
    return results + grads


def on(device, fn, *args):
    with tf.device(device):
        return fn(*args)


@needs_gpu
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gpu_op_matches_cpu_op(kind, dtype, reverse):
    rng = np.random.default_rng(5)
    p = make_problem(rng, 6, 9, 7, 37, dtype, kind=kind)
    lengths = np.array([9, 0, 3, 9, 1, 5], np.int32)
    mask = (rng.random((6, 37)) > 0.25).astype(dtype) / 0.75
    want = on("/CPU:0", sequence, kind, p, lengths, reverse, mask)
    got = on("/GPU:0", sequence, kind, p, lengths, reverse, mask)
    forward_tol, grad_tol = TOLERANCE[dtype]
    n_forward = 3 if kind == "lstm" else 2
    for i, (g, w) in enumerate(zip(got, want)):
        tol = forward_tol if i < n_forward else grad_tol
        np.testing.assert_allclose(g, w, rtol=tol,
                                   atol=tol * max(1.0, np.abs(w).max()),
                                   err_msg=f"result {i}")


def lstm_with_options(p, rng, reverse):
    """The LSTM op with every option (zoneout_h a per-step 0/1 mask; a
    projection when p's h is narrower than its c): outputs, states and the
    gradients of x, the weights, the peepholes (and the projection) on the
    current device."""
    units, hidden = p.c0.shape[1], p.h0.shape[1]
    peephole = tf.constant(rng.standard_normal((3, units)), p.x.dtype)
    zoneout_h = (rng.random(p.x.shape[:2] + (hidden,)) < 0.5).astype(
        p.x.dtype)
    projection = [tf.constant(rng.standard_normal((units, hidden)) / 6,
                              p.x.dtype)] if hidden != units else []
    tensors = [tf.constant(a) for a in p.inputs] + [peephole] + projection
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        x, h0, c0, kernel, recurrent, bias, peep, *proj = tensors
        results = ops.lstm_sequence(
            x, h0, c0, kernel, recurrent, bias,
            np.array([9, 0, 3, 9, 1, 5], np.int32), reverse=reverse,
            peephole=peep, zoneout_h=zoneout_h, zoneout_c=0.25,
            cell_clip=0.9, projection=proj[0] if proj else None)
        loss = sum(tf.reduce_sum(r * (k + 1.0)) for k, r in enumerate(results))
    return [t.numpy() for t in list(results) + tape.gradient(loss, tensors)]


@needs_gpu
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("hidden", [None, 5])
def test_gpu_lstm_options_match_cpu(reverse, hidden):
    p = make_problem(np.random.default_rng(8), 6, 9, 7, 37, "float64",
                     hidden=hidden)
    want = on("/CPU:0", lstm_with_options, p, np.random.default_rng(9),
              reverse)
    got = on("/GPU:0", lstm_with_options, p, np.random.default_rng(9),
             reverse)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10,
                                   err_msg=f"result {i}")


@needs_gpu
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_gpu_gradients_are_bitwise_repeatable(kind):
    p = make_problem(np.random.default_rng(1), 33, 20, 16, 65, kind=kind)
    lengths = np.random.default_rng(2).integers(0, 21, 33).astype(np.int32)
    first = on("/GPU:0", sequence, kind, p, lengths, False, None)
    second = on("/GPU:0", sequence, kind, p, lengths, False, None)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@needs_gpu
def test_gpu_single_step_matches_cpu():
    p = make_problem(np.random.default_rng(3), 4, 1, 5, 12)
    args = [p.x[:, 0], p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias]
    want = on("/CPU:0", ops.lstm_step, *args)
    got = on("/GPU:0", ops.lstm_step, *args)
    for g, w in zip(got, want):
        assert "GPU" in g.device
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5,
                                   atol=1e-5)


@needs_gpu
def test_gpu_refuses_bad_lengths_as_the_cpu_does():
    p = make_problem(np.random.default_rng(0), 3, 4, 2, 5)
    messages = []
    for device in ("/CPU:0", "/GPU:0"):
        with tf.device(device), pytest.raises(
                tf.errors.InvalidArgumentError) as err:
            library.ops.tfrnn_lstm(
                p.x, p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias,
                np.array([4, 5, 0], np.int32), *[np.zeros([0], np.float32)] * 9)
        messages.append(err.value.message)
    assert messages[0] == messages[1]
    assert "sequence_length" in messages[0]


@needs_gpu
def test_layer_placed_on_the_gpu_runs_there():
    x = np.random.default_rng(4).standard_normal((3, 6, 4)).astype("float32")
    with tf.device("/CPU:0"):
        layer = tfrnn.layers.LSTM(8, return_sequences=True)
        want = layer(x).numpy()
    with tf.device("/GPU:0"):
        got = layer(x)
    assert "GPU" in got.device
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)


@needs_gpu
def test_projected_layers_run_on_the_gpu():
    """proj_size, alone and with layer_norm, under a GPU device scope runs
    the GPU kernel and gives the CPU's numbers."""
    x = np.random.default_rng(4).standard_normal((3, 6, 4)).astype("float32")
    for options in ({"layer_norm": True}, {}):
        with tf.device("/CPU:0"):
            layer = tfrnn.layers.LSTM(8, proj_size=3, return_sequences=True,
                                      **options)
            want = layer(x).numpy()
        with tf.device("/GPU:0"):
            got = layer(x)
        assert "GPU" in got.device, options
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)
