"""Full-state output (h and c of every step) and SimpleRNN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrnn
from tfrnn import ops
from tfrnn.ops import reference
from rnn_problems import make_problem


def step_by_step(p):
    """h and c after every step, one fused step at a time (forward rows)."""
    h, c = p.h0, p.c0
    hs, cs = [], []
    for t in range(p.x.shape[1]):
        h_new, c_new = ops.lstm_step(p.x[:, t], h, c, p.kernel,
                                     p.recurrent_kernel, p.bias)
        ran = (t < p.lengths)[:, None]
        h, c = np.where(ran, h_new, h), np.where(ran, c_new, c)
        hs.append(np.where(ran, h, 0))
        cs.append(np.where(ran, c, 0))
    return np.stack(hs, 1), np.stack(cs, 1)


def test_cell_sequence_matches_step_by_step_and_fallback():
    p = make_problem(np.random.default_rng(0), 4, 6, 3, 5,
                     lengths=[6, 2, 0, 5])
    output, h_n, c_n, cells = ops.lstm_sequence(
        *p.inputs, p.lengths, return_cell_sequence=True)
    want_h, want_c = step_by_step(p)
    np.testing.assert_allclose(output, want_h, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(cells, want_c, rtol=1e-6, atol=1e-6)
    ref = reference.lstm_sequence(*[tf.constant(a) for a in p.inputs],
                                  tf.constant(p.lengths),
                                  return_cell_sequence=True)
    np.testing.assert_allclose(cells, ref[3], rtol=1e-6, atol=1e-6)


def test_projected_cell_sequence_matches_the_fallback():
    """Under a projection h is P wide and the cells H wide: the op's and
    the reference's split of the two."""
    p = make_problem(np.random.default_rng(4), 4, 6, 3, 5, hidden=2,
                     lengths=[6, 2, 0, 5])
    projection = np.random.default_rng(5).standard_normal((5, 2)).astype(
        "float32")
    got = ops.lstm_sequence(*p.inputs, p.lengths, return_cell_sequence=True,
                            projection=projection)
    want = reference.lstm_sequence(
        *[tf.constant(a) for a in p.inputs], tf.constant(p.lengths),
        return_cell_sequence=True, projection=tf.constant(projection))
    assert got[0].shape == (4, 6, 2) and got[3].shape == (4, 6, 5)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_cell_sequence_carries_no_gradient():
    p = make_problem(np.random.default_rng(1), 2, 3, 2, 3)
    x = tf.constant(p.x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        cells = ops.lstm_sequence(x, *p.inputs[1:],
                                  return_cell_sequence=True)[3]
        loss = tf.reduce_sum(cells)
    assert tape.gradient(loss, x) is None


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("options", [{}, dict(
    peephole=True, cell_clip=0.5, zoneout_h=0.2, zoneout_c=0.3), dict(
    proj_size=4, zoneout_h=0.2, layer_norm=True)])
def test_layer_state_sequences(go_backwards, options):
    """The states agree with the layer's own outputs (inference: zoneout at
    its expectation), with and without the op's LSTM options."""
    x = np.random.default_rng(2).standard_normal((3, 5, 4)).astype("float32")
    mask = np.array([[1] * 5, [1, 1, 0, 0, 0], [1] * 4 + [0]], bool)
    layer = tfrnn.layers.LSTM(6, return_sequences=True, return_state=True,
                              go_backwards=go_backwards,
                              zero_output_for_mask=True, **options)
    layer(x, mask=mask)
    layer.set_weights([w + np.float32(0.3) for w in layer.get_weights()])
    output, h_n, c_n = layer(x, mask=mask)
    h_seq, c_seq = layer.state_sequences(x, mask=mask)
    if go_backwards:
        output = np.flip(output, 1)  # Keras's order -> input order
    np.testing.assert_allclose(h_seq, output, rtol=1e-6, atol=1e-6)
    last = 0 if go_backwards else mask.sum(1) - 1
    np.testing.assert_allclose(c_seq.numpy()[np.arange(3), last], c_n,
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_simple_rnn_matches_keras_and_round_trips(nonlinearity, tmp_path):
    x = np.random.default_rng(3).standard_normal((3, 6, 4)).astype("float32")
    reference_layer = keras.layers.SimpleRNN(5, activation=nonlinearity,
                                             return_sequences=True)
    ours = tfrnn.layers.SimpleRNN(5, nonlinearity=nonlinearity,
                                  return_sequences=True, time_major=False)
    reference_layer(x)
    ours.build(x.shape)
    ours.set_weights(reference_layer.get_weights())
    # The fused op against Keras's loop: equal to float32 rounding.
    np.testing.assert_allclose(ours(x), reference_layer(x), rtol=1e-6,
                               atol=1e-6)
    model = keras.Sequential([keras.Input((6, 4)), ours])
    path = str(tmp_path / "simple.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].nonlinearity == nonlinearity
    np.testing.assert_array_equal(loaded(x), model(x))
    cell = tfrnn.layers.SimpleRNNCell(3, nonlinearity=nonlinearity)
    assert tfrnn.layers.SimpleRNNCell.from_config(
        cell.get_config()).nonlinearity == nonlinearity


@pytest.mark.parametrize("spelling", ["activation", "nonlinearity"])
def test_simple_rnn_takes_keras_and_torch_spellings(spelling):
    layer = tfrnn.layers.SimpleRNN(4, **{spelling: "relu"})
    assert layer.nonlinearity == "relu"
    assert layer.get_config()["activation"] == "relu"


def test_simple_rnn_loads_a_keras_simple_rnn_config():
    config = keras.layers.SimpleRNN(4, activation="relu",
                                    return_sequences=True).get_config()
    layer = tfrnn.layers.SimpleRNN.from_config(config)
    assert layer.nonlinearity == "relu" and layer.return_sequences


@pytest.mark.parametrize("kwargs", [dict(nonlinearity="sigmoid"),
                                    dict(nonlinearity="tanh",
                                         activation="relu")])
def test_simple_rnn_rejects_bad_or_conflicting_nonlinearity(kwargs):
    with pytest.raises(ValueError, match="nonlinearity"):
        tfrnn.layers.SimpleRNN(4, **kwargs)
