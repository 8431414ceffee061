"""The fused LSTM op against Keras's own LSTM and float64 numeric gradients."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from tfrnn import ops
from tfrnn.ops import reference
from lstm_problems import keras_results, make_problem, run_with_grads

GRAD_NAMES = ["dx", "dh0", "dc0", "dkernel", "drecurrent_kernel", "dbias"]


def op_results(p, reverse=False, training=True):
    return run_with_grads(
        lambda *a: ops.lstm_sequence(*a, sequence_length=p.lengths,
                                     reverse=reverse, training=training), p)


def reference_results(p, reverse=False):
    lengths = p.lengths
    if lengths is None:
        lengths = np.full(p.x.shape[0], p.x.shape[1], np.int32)
    return run_with_grads(
        lambda *a: reference.lstm_sequence(*a, tf.constant(lengths),
                                           reverse=reverse), p)


def assert_results_close(actual, expected, tol):
    (outs, grads), (ref_outs, ref_grads) = actual, expected
    for name, a, b in zip(["output", "h_n", "c_n"], outs, ref_outs):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)
    for name, a, b in zip(GRAD_NAMES, grads, ref_grads):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)


def test_custom_op_library_is_in_use():
    # Every other test here would pass on the fallback too; this one makes
    # sure the compiled kernel is what they measured.
    assert ops.custom_ops_available(), ops.loader.library.unavailable_reason


@pytest.mark.parametrize("seed", range(12))
def test_matches_keras_on_random_shapes(seed):
    rng = np.random.default_rng(seed)
    batch, time = int(rng.integers(1, 7)), int(rng.integers(1, 13))
    features, units = int(rng.integers(1, 10)), int(rng.integers(1, 11))
    lengths = None
    if seed % 2:
        lengths = rng.integers(0, time + 1, size=batch)
        lengths[0] = time  # at least one full row
    reverse = seed % 4 >= 2
    p = make_problem(rng, batch, time, features, units, lengths=lengths)
    assert_results_close(op_results(p, reverse), keras_results(p, reverse),
                         1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_matches_keras_with_empty_rows_and_larger_sizes(reverse):
    rng = np.random.default_rng(7)
    p = make_problem(rng, 8, 30, 16, 32, lengths=[30, 0, 1, 29, 15, 0, 30, 7])
    assert_results_close(op_results(p, reverse), keras_results(p, reverse),
                         1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_padded_steps_output_zero_and_final_state_is_last_real_step(reverse):
    rng = np.random.default_rng(3)
    p = make_problem(rng, 3, 6, 2, 4, lengths=[6, 3, 0])
    (output, h_n, c_n), _ = op_results(p, reverse)
    assert not output[1, 3:].any() and not output[2].any()
    np.testing.assert_array_equal(h_n[2], p.h0[2])
    np.testing.assert_array_equal(c_n[2], p.c0[2])
    # A forward row ends at its last real step; a reverse row at step 0.
    last = 0 if reverse else 2
    np.testing.assert_array_equal(h_n[1], output[1, last])


@pytest.mark.parametrize("reverse", [False, True])
def test_reverse_equals_reverse_sequence_of_forward(reverse):
    rng = np.random.default_rng(11)
    p = make_problem(rng, 4, 7, 3, 5, lengths=[7, 4, 1, 0])
    x_rev = tf.reverse_sequence(p.x, p.lengths, seq_axis=1, batch_axis=0)
    args = [p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias]
    y_rev, h_rev, c_rev = ops.lstm_sequence(p.x, *args, p.lengths,
                                            reverse=True)
    y_fwd, h_fwd, c_fwd = ops.lstm_sequence(x_rev, *args, p.lengths)
    np.testing.assert_allclose(
        y_rev, tf.reverse_sequence(y_fwd, p.lengths, seq_axis=1, batch_axis=0),
        rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(h_rev, h_fwd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(c_rev, c_fwd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("batch,time,lengths", [
    (0, 5, None), (3, 0, None), (3, 4, [0, 0, 0]), (0, 0, None)])
@pytest.mark.parametrize("reverse", [False, True])
def test_degenerate_shapes(batch, time, lengths, reverse):
    """Empty batch, zero steps, all rows empty: outputs are zeros, the state
    passes through unchanged and so do its gradients; weights get none."""
    rng = np.random.default_rng(5)
    p = make_problem(rng, batch, time, 3, 4, lengths=lengths)
    (output, h_n, c_n), grads = op_results(p, reverse)
    assert output.shape == (batch, time, 4) and not output.any()
    np.testing.assert_array_equal(h_n, p.h0)
    np.testing.assert_array_equal(c_n, p.c0)
    dx, dh0, dc0, dkernel, drecurrent, dbias = grads
    assert dx.shape == p.x.shape and not dx.any()
    np.testing.assert_array_equal(dh0, p.d_h)
    np.testing.assert_array_equal(dc0, p.d_c)
    assert not dkernel.any() and not drecurrent.any() and not dbias.any()
    assert_results_close(op_results(p, reverse), reference_results(p, reverse),
                         0)


@pytest.mark.parametrize("reverse", [False, True])
def test_inference_mode_same_outputs_and_gradients(reverse):
    """training=False saves no activations; its gradient re-runs the forward
    and must equal the training-mode gradient."""
    rng = np.random.default_rng(2)
    p = make_problem(rng, 4, 9, 3, 5, lengths=[9, 5, 0, 2])
    assert_results_close(op_results(p, reverse, training=False),
                         op_results(p, reverse, training=True), 0)


@pytest.mark.parametrize("reverse", [False, True])
def test_numeric_gradient_float64(reverse):
    rng = np.random.default_rng(1)
    p = make_problem(rng, 3, 4, 2, 3, dtype="float64", lengths=[4, 2, 0])

    def f(x, h0, c0, kernel, recurrent_kernel, bias):
        output, h_n, c_n = ops.lstm_sequence(
            x, h0, c0, kernel, recurrent_kernel, bias, p.lengths,
            reverse=reverse)
        return tf.concat([tf.reshape(output, [-1]), tf.reshape(h_n, [-1]),
                          tf.reshape(c_n, [-1])], 0)

    theoretical, numeric = tf.test.compute_gradient(
        f, [tf.constant(a) for a in p.inputs], delta=1e-6)
    for name, t, n in zip(GRAD_NAMES, theoretical, numeric):
        np.testing.assert_allclose(t, n, rtol=1e-7, atol=1e-9, err_msg=name)


def test_float64_matches_keras():
    rng = np.random.default_rng(4)
    p = make_problem(rng, 3, 5, 4, 6, dtype="float64", lengths=[5, 3, 1])
    assert_results_close(op_results(p), keras_results(p), 1e-10)


def test_step_op_matches_keras_cell_and_its_gradients():
    rng = np.random.default_rng(9)
    batch, features, units = 5, 3, 4
    p = make_problem(rng, batch, 1, features, units)
    cell = keras.layers.LSTMCell(units)
    cell.build((batch, features))
    cell.set_weights([p.kernel, p.recurrent_kernel, p.bias])
    x, h, c = (tf.constant(a) for a in (p.x[:, 0], p.h0, p.c0))

    def loss_of(h_new, c_new):
        return tf.reduce_sum(h_new * p.d_h) + tf.reduce_sum(c_new * p.d_c)

    with tf.GradientTape() as tape:
        tape.watch([x, h, c])
        _, (h_k, c_k) = cell(x, [h, c])
        loss = loss_of(h_k, c_k)
    keras_grads = tape.gradient(loss, [x, h, c] + cell.trainable_weights)

    weights = [tf.constant(a) for a in (p.kernel, p.recurrent_kernel, p.bias)]
    with tf.GradientTape() as tape:
        tape.watch([x, h, c] + weights)
        h_op, c_op = ops.lstm_step(x, h, c, *weights)
        loss = loss_of(h_op, c_op)
    op_grads = tape.gradient(loss, [x, h, c] + weights)

    np.testing.assert_allclose(h_op, h_k, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c_op, c_k, rtol=1e-5, atol=1e-5)
    for name, a, b in zip(GRAD_NAMES, op_grads, keras_grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=name)


def test_step_numeric_gradient_float64():
    rng = np.random.default_rng(8)
    p = make_problem(rng, 3, 1, 2, 3, dtype="float64")
    args = [p.x[:, 0], p.h0, p.c0, p.kernel, p.recurrent_kernel, p.bias]

    def f(*a):
        return tf.concat(ops.lstm_step(*a), 1)

    theoretical, numeric = tf.test.compute_gradient(
        f, [tf.constant(a) for a in args], delta=1e-6)
    for name, t, n in zip(GRAD_NAMES, theoretical, numeric):
        np.testing.assert_allclose(t, n, rtol=1e-7, atol=1e-9, err_msg=name)


def test_half_precision_inputs_compute_in_float32():
    rng = np.random.default_rng(6)
    p = make_problem(rng, 2, 4, 3, 4, lengths=[4, 2])
    y32, h32, _ = ops.lstm_sequence(*p.inputs, p.lengths)
    y16, h16, _ = ops.lstm_sequence(*[a.astype("float16") for a in p.inputs],
                                    p.lengths)
    assert y16.dtype == tf.float16
    np.testing.assert_allclose(y16, y32, atol=1e-2)


def test_op_inside_tf_function_with_unknown_shapes():
    rng = np.random.default_rng(12)
    p = make_problem(rng, 3, 5, 2, 4, lengths=[5, 2, 0])
    spec = tf.TensorSpec(None, tf.float32)
    fn = tf.function(lambda *a: ops.lstm_sequence(*a[:6], a[6]),
                     input_signature=[spec] * 6 + [tf.TensorSpec(None, tf.int32)])
    got = fn(*p.inputs, p.lengths)
    want = ops.lstm_sequence(*p.inputs, p.lengths)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
