"""Variational recurrent dropout inside the fused ops: one mask on h_{t-1}
where it enters h.U, the same at every step. The ops against the pure-TF
reference and float64 numeric gradients; the layers' fused path against
Keras's step loop over tfrnn's cell; identity in inference; seeded."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfrnn import ops
from tfrnn.layers import GRU, LSTM, SimpleRNN
from tfrnn.ops import reference
from rnn_problems import dropout_mask, make_problem, run_masked

SEQUENCE = {"lstm": (ops.lstm_sequence, reference.lstm_sequence),
            "gru": (ops.gru_sequence, reference.gru_sequence),
            "rnn_tanh": (ops.rnn_sequence, reference.rnn_sequence)}
LAYERS = {"lstm": LSTM, "gru": GRU, "rnn_tanh": SimpleRNN}
kinds = pytest.mark.parametrize("kind", sorted(SEQUENCE))


@kinds
@pytest.mark.parametrize("reverse", [False, True])
def test_op_matches_the_reference(kind, reverse):
    rng = np.random.default_rng(1)
    p = make_problem(rng, 6, 9, 5, 7, lengths=[9, 4, 0, 1, 9, 6], kind=kind)
    mask = dropout_mask(rng, 6, 7)
    fused, ref = SEQUENCE[kind]
    def reference_op(*a, **k):
        return ref(*a, **{**k, "sequence_length": tf.constant(p.lengths)})

    for a, b in zip(run_masked(fused, p, mask, reverse),
                    run_masked(reference_op, p, mask, reverse)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@kinds
def test_a_mask_of_ones_changes_nothing(kind):
    p = make_problem(np.random.default_rng(2), 3, 5, 4, 6, kind=kind)
    fused = SEQUENCE[kind][0]
    with_mask = run_masked(fused, p, np.ones((3, 6), np.float32), False)
    inputs = [tf.constant(a) for a in p.inputs]
    plain = fused(*inputs)
    for a, b in zip(with_mask, plain):
        np.testing.assert_array_equal(a, b.numpy())


@kinds
def test_float64_gradients_match_numeric_ones(kind):
    rng = np.random.default_rng(3)
    p = make_problem(rng, 3, 4, 3, 4, dtype="float64", lengths=[4, 2, 3],
                     kind=kind)
    mask = dropout_mask(rng, 3, 4, dtype="float64")
    fused = SEQUENCE[kind][0]

    def loss(*inputs):
        x, *rest = inputs
        out = fused(x, *rest, sequence_length=p.lengths,
                    recurrent_mask=mask)
        return tf.reduce_sum(out[0] * p.d_output) + sum(
            tf.reduce_sum(s * d) for s, d in zip(out[1:], p.d_states))

    theoretical, numerical = tf.test.compute_gradient(
        loss, [tf.constant(a) for a in p.inputs], delta=1e-6)
    for t, n in zip(theoretical, numerical):
        np.testing.assert_allclose(t, n, rtol=1e-6, atol=1e-7)


def twin_layers(kind, **kwargs):
    """Two layers with the same weights and seed."""
    layers = [LAYERS[kind](8, return_sequences=True, return_state=True,
                           seed=11, **kwargs) for _ in range(2)]
    x = tf.zeros([1, 1, 5])
    for layer in layers:
        layer(x)
    layers[1].set_weights(layers[0].get_weights())
    return layers


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, 7, 5)).astype("float32")
    mask = np.arange(7)[None, :] < np.array([7, 3, 5, 1, 7])[:, None]
    return tf.constant(x), tf.constant(mask)


@kinds
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_fused_path_equals_the_step_loop_in_training(kind, dropout):
    """The fused op with the layer's mask == Keras's loop over tfrnn's cell
    (unroll) drawing its masks from the same seed."""
    fused, loop = twin_layers(kind, recurrent_dropout=0.4, dropout=dropout)
    loop.unroll = True
    x, mask = inputs()
    with tf.GradientTape(persistent=True) as tape:
        a = fused(x, mask=mask, training=True)
        b = loop(x, mask=mask, training=True)
        loss_a, loss_b = tf.reduce_sum(a[0]), tf.reduce_sum(b[0])
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-5)
    for u, v in zip(tape.gradient(loss_a, fused.trainable_weights),
                    tape.gradient(loss_b, loop.trainable_weights)):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)


@kinds
def test_identity_in_inference_and_seeded_in_training(kind):
    dropped, _ = twin_layers(kind, recurrent_dropout=0.5)
    plain = LAYERS[kind](8, return_sequences=True, return_state=True)
    plain(tf.zeros([1, 1, 5]))
    plain.set_weights(dropped.get_weights())
    x, mask = inputs(1)
    for u, v in zip(dropped(x, mask=mask, training=False),
                    plain(x, mask=mask)):
        np.testing.assert_array_equal(u, v)
    trained = dropped(x, mask=mask, training=True)[0]
    assert not np.allclose(trained, plain(x, mask=mask)[0], atol=1e-3)
    first, second = twin_layers(kind, recurrent_dropout=0.5)
    np.testing.assert_array_equal(first(x, mask=mask, training=True)[0],
                                  second(x, mask=mask, training=True)[0])


@kinds
def test_one_mask_for_every_step(kind):
    """The layer's training output equals the reference run with one fixed
    mask: the first draw of a twin cell's seed generator."""
    layer, twin = twin_layers(kind, recurrent_dropout=0.5)
    x, _ = inputs(2)
    out = layer(x, training=True)[0]
    mask = twin.cell.get_recurrent_dropout_mask(tf.zeros([5, 8]))
    assert 0.2 < np.mean(mask.numpy() == 0) < 0.8
    cell = layer.cell
    states = [tf.zeros([5, 8])] * (2 if kind == "lstm" else 1)
    expected = SEQUENCE[kind][1](x, *states, cell.kernel,
                                 cell.recurrent_kernel, cell.bias,
                                 tf.fill([5], 7), recurrent_mask=mask)[0]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_keras_round_trip_keeps_the_option(tmp_path):
    model = keras.Sequential([keras.Input((None, 5)),
                              LSTM(8, recurrent_dropout=0.25, seed=3)])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    layer = loaded.layers[0]
    assert layer.cell.recurrent_dropout == 0.25
    assert layer.cell.implementation == 2
    x, _ = inputs()
    np.testing.assert_array_equal(model(x), loaded(x))
