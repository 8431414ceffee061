"""The fused LSTM, GRU and Elman RNN (tanh, relu) ops against Keras's own
layers and float64 numeric gradients. Every test runs for every kind."""

import dataclasses
import functools

import numpy as np
import pytest
import tensorflow as tf
import keras

from tfrnn import ops
from tfrnn.ops import reference
from rnn_problems import keras_results, make_problem, run_with_grads

# kind -> (sequence op, step op, reference sequence, Keras cell, state names)
KINDS = {
    "lstm": (ops.lstm_sequence, ops.lstm_step, reference.lstm_sequence,
             keras.layers.LSTMCell, ("h0", "c0")),
    "gru": (ops.gru_sequence, ops.gru_step, reference.gru_sequence,
            keras.layers.GRUCell, ("h0",)),
    **{f"rnn_{n}": (functools.partial(ops.rnn_sequence, nonlinearity=n),
                    functools.partial(ops.rnn_step, nonlinearity=n),
                    functools.partial(reference.rnn_sequence, nonlinearity=n),
                    functools.partial(keras.layers.SimpleRNNCell,
                                      activation=n), ("h0",))
       for n in ("tanh", "relu")},
}
pytestmark = pytest.mark.parametrize("kind", sorted(KINDS))


def grad_names(kind):
    return (["dx"] + ["d" + s for s in KINDS[kind][4]]
            + ["dkernel", "drecurrent_kernel", "dbias"])


def op_results(p, reverse=False, training=True):
    sequence_op = KINDS[p.kind][0]
    return run_with_grads(
        lambda *a: sequence_op(*a, sequence_length=p.lengths, reverse=reverse,
                               training=training), p)


def reference_results(p, reverse=False):
    lengths = p.lengths
    if lengths is None:
        lengths = np.full(p.x.shape[0], p.x.shape[1], np.int32)
    return run_with_grads(lambda *a: KINDS[p.kind][2](
        *a, tf.constant(lengths), reverse=reverse), p)


def result_names(kind):
    return (["output"] + [s[:-1] + "_n" for s in KINDS[kind][4]]
            + grad_names(kind))


def assert_results_close(kind, actual, expected, tol):
    """Outputs, final states and gradients agree to `tol`, absolute and
    relative. For the GRU the absolute part scales with each array's largest
    value: its gradients reach magnitudes where float32 summation error
    exceeds 1e-5 in Keras's own GRU too (see the float64 test below)."""
    (outs, grads), (ref_outs, ref_grads) = actual, expected
    for name, a, b in zip(result_names(kind), outs + grads,
                          ref_outs + ref_grads):
        atol = tol
        if kind == "gru" and b.size:
            atol = tol * max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(a, b, rtol=tol, atol=atol, err_msg=name)


def test_custom_op_library_is_in_use(kind):
    # Every other test here would pass on the fallback too; this one makes
    # sure the compiled kernel is what they measured.
    assert ops.custom_ops_available(), ops.loader.library.unavailable_reason


@pytest.mark.parametrize("seed", range(12))
def test_matches_keras_on_random_shapes(kind, seed):
    rng = np.random.default_rng(seed)
    batch, time = int(rng.integers(1, 7)), int(rng.integers(1, 13))
    features, units = int(rng.integers(1, 10)), int(rng.integers(1, 11))
    lengths = None
    if seed % 2:
        lengths = rng.integers(0, time + 1, size=batch)
        lengths[0] = time  # at least one full row
    reverse = seed % 4 >= 2
    p = make_problem(rng, batch, time, features, units, lengths=lengths,
                     kind=kind)
    assert_results_close(kind, op_results(p, reverse),
                         keras_results(p, reverse), 1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_matches_keras_with_empty_rows_and_larger_sizes(kind, reverse):
    rng = np.random.default_rng(7)
    p = make_problem(rng, 8, 30, 16, 32, lengths=[30, 0, 1, 29, 15, 0, 30, 7],
                     kind=kind)
    assert_results_close(kind, op_results(p, reverse),
                         keras_results(p, reverse), 1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_padded_steps_output_zero_and_final_state_is_last_real_step(
        kind, reverse):
    rng = np.random.default_rng(3)
    p = make_problem(rng, 3, 6, 2, 4, lengths=[6, 3, 0], kind=kind)
    (output, h_n, *rest), _ = op_results(p, reverse)
    assert not output[1, 3:].any() and not output[2].any()
    for final, initial in zip([h_n, *rest], p.states):
        np.testing.assert_array_equal(final[2], initial[2])
    # A forward row ends at its last real step; a reverse row at step 0.
    last = 0 if reverse else 2
    np.testing.assert_array_equal(h_n[1], output[1, last])


@pytest.mark.parametrize("reverse", [False, True])
def test_reverse_equals_reverse_sequence_of_forward(kind, reverse):
    rng = np.random.default_rng(11)
    p = make_problem(rng, 4, 7, 3, 5, lengths=[7, 4, 1, 0], kind=kind)
    sequence_op = KINDS[kind][0]
    x_rev = tf.reverse_sequence(p.x, p.lengths, seq_axis=1, batch_axis=0)
    rest = p.inputs[1:]
    y_rev, *final_rev = sequence_op(p.x, *rest, p.lengths, reverse=True)
    y_fwd, *final_fwd = sequence_op(x_rev, *rest, p.lengths)
    np.testing.assert_allclose(
        y_rev, tf.reverse_sequence(y_fwd, p.lengths, seq_axis=1, batch_axis=0),
        rtol=1e-6, atol=1e-6)
    for a, b in zip(final_rev, final_fwd):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("batch,time,lengths", [
    (0, 5, None), (3, 0, None), (3, 4, [0, 0, 0]), (0, 0, None)])
@pytest.mark.parametrize("reverse", [False, True])
def test_degenerate_shapes(kind, batch, time, lengths, reverse):
    """Empty batch, zero steps, all rows empty: outputs are zeros, the state
    passes through unchanged and so do its gradients; weights get none.
    (Keras's own layers fail on these, so the contract is the reference.)"""
    rng = np.random.default_rng(5)
    p = make_problem(rng, batch, time, 3, 4, lengths=lengths, kind=kind)
    (output, *final), grads = op_results(p, reverse)
    assert output.shape == (batch, time, 4) and not output.any()
    for got, initial in zip(final, p.states):
        np.testing.assert_array_equal(got, initial)
    n = len(p.states)
    dx, d_states, d_weights = grads[0], grads[1:1 + n], grads[1 + n:]
    assert dx.shape == p.x.shape and not dx.any()
    for got, upstream in zip(d_states, p.d_states):
        np.testing.assert_array_equal(got, upstream)
    assert not any(w.any() for w in d_weights)
    assert_results_close(kind, op_results(p, reverse),
                         reference_results(p, reverse), 0)


@pytest.mark.parametrize("batch,units", [(1, 1), (3, 20)])
def test_zero_input_features_match_the_reference(kind, batch, units):
    """I = 0 (x.W is empty: only h.U and the bias drive the cell), for the
    sequence and the step op. The empty packed W once took no scratch and
    the op returned the initial state unchanged."""
    rng = np.random.default_rng(14)
    p = make_problem(rng, batch, 4, 0, units, lengths=[4] + [2] * (batch - 1),
                     kind=kind)
    assert_results_close(kind, op_results(p), reference_results(p), 1e-5)
    step_op = KINDS[kind][1]
    step_reference = {"lstm": reference.lstm_step,
                      "gru": reference.gru_step}.get(
        kind, functools.partial(reference.rnn_step,
                                nonlinearity=kind[len("rnn_"):]))
    inputs = [tf.constant(a) for a in step_inputs(p)]
    for got, want in zip(tf.nest.flatten(step_op(*inputs)),
                         tf.nest.flatten(step_reference(*inputs))):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_inference_mode_same_outputs_and_gradients(kind, reverse):
    """training=False saves no activations; its gradient re-runs the forward
    and must equal the training-mode gradient."""
    rng = np.random.default_rng(2)
    p = make_problem(rng, 4, 9, 3, 5, lengths=[9, 5, 0, 2], kind=kind)
    assert_results_close(kind, op_results(p, reverse, training=False),
                         op_results(p, reverse, training=True), 0)


@pytest.mark.parametrize("reverse", [False, True])
def test_numeric_gradient_float64(kind, reverse):
    rng = np.random.default_rng(1)
    p = make_problem(rng, 3, 4, 2, 3, dtype="float64", lengths=[4, 2, 0],
                     kind=kind)

    def f(*inputs):
        results = KINDS[kind][0](*inputs, p.lengths, reverse=reverse)
        return tf.concat([tf.reshape(t, [-1]) for t in results], 0)

    theoretical, numeric = tf.test.compute_gradient(
        f, [tf.constant(a) for a in p.inputs], delta=1e-6)
    for name, t, n in zip(grad_names(kind), theoretical, numeric):
        np.testing.assert_allclose(t, n, rtol=1e-7, atol=1e-9, err_msg=name)


def as_float64(p):
    """The same problem, its float32 values cast up exactly."""
    up = lambda a: a.astype("float64")  # noqa: E731
    return dataclasses.replace(
        p, x=up(p.x), states=[up(s) for s in p.states], kernel=up(p.kernel),
        recurrent_kernel=up(p.recurrent_kernel), bias=up(p.bias),
        d_output=up(p.d_output), d_states=[up(d) for d in p.d_states])


def test_float32_error_no_worse_than_keras_against_float64(kind):
    """Against the float64 result, our float32 outputs and gradients are as
    accurate as Keras's own float32 layer (within 2x, plus 1e-6)."""
    rng = np.random.default_rng(7)
    p = make_problem(rng, 8, 30, 16, 32, lengths=[30, 0, 1, 29, 15, 0, 30, 7],
                     kind=kind)
    p64 = as_float64(p)
    truth_outs, truth_grads = op_results(p64)
    ours_outs, ours_grads = op_results(p)
    keras_outs, keras_grads = keras_results(p)
    for name, truth, ours, theirs in zip(
            result_names(kind), truth_outs + truth_grads,
            ours_outs + ours_grads, keras_outs + keras_grads):
        our_error = np.abs(ours - truth).max()
        keras_error = np.abs(theirs - truth).max()
        print(f"{kind} {name}: |float32 - float64| tfrnn {our_error:.2e}, "
              f"keras {keras_error:.2e}")
        assert our_error <= 2 * keras_error + 1e-6, (name, our_error,
                                                     keras_error)


def test_float64_matches_keras(kind):
    rng = np.random.default_rng(4)
    p = make_problem(rng, 3, 5, 4, 6, dtype="float64", lengths=[5, 3, 1],
                     kind=kind)
    assert_results_close(kind, op_results(p), keras_results(p), 1e-10)


def step_inputs(p):
    return [p.x[:, 0], *p.states, p.kernel, p.recurrent_kernel, p.bias]


def test_step_op_matches_keras_cell_and_its_gradients(kind):
    rng = np.random.default_rng(9)
    batch, features, units = 5, 3, 4
    p = make_problem(rng, batch, 1, features, units, kind=kind)
    step_op, cell_class = KINDS[kind][1], KINDS[kind][3]
    cell = cell_class(units)
    cell.build((batch, features))
    cell.set_weights([p.kernel, p.recurrent_kernel, p.bias])
    x, *states = (tf.constant(a) for a in step_inputs(p)[:1 + len(p.states)])
    weights = [tf.constant(a) for a in (p.kernel, p.recurrent_kernel, p.bias)]

    def loss_of(new_states):
        return sum(tf.reduce_sum(s * d) for s, d in zip(new_states, p.d_states))

    with tf.GradientTape() as tape:
        tape.watch([x] + states)
        _, keras_states = cell(x, states)
        keras_loss = loss_of(keras_states)
    keras_grads = tape.gradient(keras_loss,
                                [x] + states + cell.trainable_weights)
    with tf.GradientTape() as tape:
        tape.watch([x] + states + weights)
        op_states = tf.nest.flatten(step_op(x, *states, *weights))
        op_loss = loss_of(op_states)
    op_grads = tape.gradient(op_loss, [x] + states + weights)

    for a, b in zip(op_states, keras_states):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    for name, a, b in zip(grad_names(kind), op_grads, keras_grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=name)


def test_step_numeric_gradient_float64(kind):
    rng = np.random.default_rng(8)
    p = make_problem(rng, 3, 1, 2, 3, dtype="float64", kind=kind)

    def f(*a):
        return tf.concat(tf.nest.flatten(KINDS[kind][1](*a)), 1)

    theoretical, numeric = tf.test.compute_gradient(
        f, [tf.constant(a) for a in step_inputs(p)], delta=1e-6)
    for name, t, n in zip(grad_names(kind), theoretical, numeric):
        np.testing.assert_allclose(t, n, rtol=1e-7, atol=1e-9, err_msg=name)


def test_half_precision_inputs_compute_in_float32(kind):
    rng = np.random.default_rng(6)
    p = make_problem(rng, 2, 4, 3, 4, lengths=[4, 2], kind=kind)
    sequence_op = KINDS[kind][0]
    y32 = sequence_op(*p.inputs, p.lengths)[0]
    y16 = sequence_op(*[a.astype("float16") for a in p.inputs], p.lengths)[0]
    assert y16.dtype == tf.float16
    np.testing.assert_allclose(y16, y32, atol=1e-2)


def test_op_inside_tf_function_with_unknown_shapes(kind):
    rng = np.random.default_rng(12)
    p = make_problem(rng, 3, 5, 2, 4, lengths=[5, 2, 0], kind=kind)
    sequence_op = KINDS[kind][0]
    n = len(p.inputs)
    fn = tf.function(lambda *a: sequence_op(*a[:n], a[n]),
                     input_signature=[tf.TensorSpec(None, tf.float32)] * n
                     + [tf.TensorSpec(None, tf.int32)])
    for got, want in zip(fn(*p.inputs, p.lengths),
                         sequence_op(*p.inputs, p.lengths)):
        np.testing.assert_array_equal(got, want)


def test_repeated_calls_are_bitwise_identical(kind):
    """Results depend on the inputs only: not on the call, the mode, or
    where the allocator put the scratch buffers."""
    rng = np.random.default_rng(13)
    p = make_problem(rng, 5, 11, 7, 13, lengths=[11, 3, 0, 8, 11], kind=kind)
    first = op_results(p)
    for training in (True, False, True):
        junk = [np.ones(int(n)) for n in rng.integers(1, 10**5, size=5)]
        again = op_results(p, training=training)
        del junk
        for a, b in zip(first[0] + first[1], again[0] + again[1]):
            np.testing.assert_array_equal(a, b)
