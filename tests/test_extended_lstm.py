"""LSTM options the fused op does not run (ExtendedLSTMCell): projection vs
PyTorch's LSTM(proj_size), peepholes vs TensorFlow's BlockLSTMV2, layer
norm and zoneout vs numpy, float64 gradients, masks, .keras."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfrnn import interop
from tfrnn.layers import LSTM, ExtendedLSTMCell

DATA = np.load(os.path.join(os.path.dirname(__file__), "data",
                            "torch_rnn_reference.npz"))


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_projection_reproduces_torch_lstm_proj_size():
    """torch.nn.LSTM(3, 6, proj_size=4)'s state dict through interop."""
    get = lambda name: DATA[f"lstm_proj/{name}"]  # noqa: E731
    state = {k.split("/")[1]: DATA[k] for k in DATA.files
             if k.startswith("lstm_proj/") and "_l0" in k}
    layer = LSTM(6, proj_size=4, return_sequences=True, return_state=True)
    layer(DATA["x"])
    layer.set_weights(interop.from_torch(state, "lstm")[(0, "forward")])
    back = interop.to_torch({(0, "forward"): layer.get_weights()}, "lstm")
    np.testing.assert_array_equal(back["weight_hr_l0"], state["weight_hr_l0"])
    output, h_n, c_n = layer(DATA["x"])
    assert output.shape == (2, 5, 4) and c_n.shape == (2, 6)
    np.testing.assert_allclose(output, get("output"), atol=1e-6)
    np.testing.assert_allclose(h_n, get("h_n"), atol=1e-6)
    np.testing.assert_allclose(c_n, get("c_n"), atol=1e-6)


def test_peepholes_match_tensorflow_block_lstm():
    """BlockLSTM (gate order i, c, f, o, forget_bias inside the op, via
    tfrnn.interop) and BlockLSTMV2 (Keras's order i, f, c, o)."""
    rng = np.random.default_rng(0)
    B, T, I, H = 3, 6, 4, 5
    x = rng.standard_normal((B, T, I)).astype("f")
    layer = LSTM(H, peephole=True, return_sequences=True)
    layer(x)
    kernel, recurrent, bias, _ = layer.get_weights()
    peep = rng.standard_normal((3, H)).astype("f")
    layer.set_weights([kernel, recurrent, bias, peep])
    w, b = interop.to_block_lstm(kernel, recurrent, bias, forget_bias=1.0)
    common = dict(seq_len_max=tf.constant(T, tf.int64),
                  x=tf.transpose(x, [1, 0, 2]), cs_prev=tf.zeros([B, H]),
                  h_prev=tf.zeros([B, H]), wci=peep[0], wcf=peep[1],
                  wco=peep[2], use_peephole=True)
    v1 = tf.raw_ops.BlockLSTM(w=w, b=b, forget_bias=1.0, cell_clip=-1.0,
                              **common)
    v2 = tf.raw_ops.BlockLSTMV2(w=np.concatenate([kernel, recurrent]),
                                b=bias, cell_clip=0.0, **common)
    for block in (v1, v2):
        np.testing.assert_allclose(layer(x), tf.transpose(block.h, [1, 0, 2]),
                                   atol=2e-6)


def numpy_extended(x, weights, units, layer_norm, zoneout=(0.0, 0.0)):
    """The extended cell in numpy (inference): layer norm and zoneout's
    expectation."""
    kernel, recurrent, bias, gx, gh, gc, sc = weights
    B = x.shape[0]
    h = np.zeros((B, units))
    c = np.zeros((B, units))

    def norm(z, groups):
        parts = z.reshape(B, groups, -1)
        mean = parts.mean(-1, keepdims=True)
        var = parts.var(-1, keepdims=True)
        return ((parts - mean) / np.sqrt(var + 1e-3)).reshape(B, -1)

    outputs = []
    for t in range(x.shape[1]):
        z = norm(x[:, t] @ kernel, 4) * gx + norm(h @ recurrent, 4) * gh
        z += bias
        i, f, g, o = np.split(z, 4, axis=1)
        c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h_new = sigmoid(o) * np.tanh(norm(c_new, 1) * gc + sc)
        h = zoneout[0] * h + (1 - zoneout[0]) * h_new
        c = zoneout[1] * c + (1 - zoneout[1]) * c_new
        outputs.append(h)
    return np.stack(outputs, 1)


@pytest.mark.parametrize("zoneout", [(0.0, 0.0), (0.3, 0.6)])
def test_layer_norm_and_zoneout_inference_match_numpy(zoneout):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 7, 3)).astype("f")
    layer = LSTM(5, layer_norm=True, zoneout_h=zoneout[0],
                 zoneout_c=zoneout[1], return_sequences=True)
    layer(x)
    weights = [w + (rng.standard_normal(w.shape) * 0.3).astype("f")
               for w in layer.get_weights()]
    layer.set_weights(weights)
    np.testing.assert_allclose(
        layer(x), numpy_extended(x.astype("f8"), weights, 5, True, zoneout),
        atol=2e-5)


def test_zoneout_inference_identity_option_is_the_plain_cell():
    x = np.random.default_rng(7).standard_normal((3, 6, 4)).astype("f")
    zoned = LSTM(5, zoneout_h=0.3, zoneout_c=0.4,
                 zoneout_inference="identity", return_sequences=True)
    plain = LSTM(5, return_sequences=True)  # the fused op
    zoned(x)
    plain(x)
    plain.set_weights(zoned.get_weights())
    np.testing.assert_allclose(zoned(x), plain(x), atol=1e-6)
    assert not np.allclose(zoned(x, training=True), plain(x), atol=1e-4)
    with pytest.raises(ValueError, match="zoneout_inference"):
        ExtendedLSTMCell(4, zoneout_h=0.1, zoneout_inference="mean")


def test_zoneout_in_training_is_seeded_and_one_keeps_the_state():
    x = np.random.default_rng(2).standard_normal((3, 6, 4)).astype("f")
    frozen = LSTM(5, zoneout_h=1.0, zoneout_c=1.0, return_sequences=True,
                  return_state=True)
    out, h, c = frozen(x, training=True)
    assert np.all(out.numpy() == 0) and np.all(c.numpy() == 0)

    def layer():
        lstm = LSTM(5, zoneout_h=0.5, zoneout_c=0.5, return_sequences=True,
                    seed=4)
        lstm(x)
        return lstm

    a, b = layer(), layer()
    b.set_weights(a.get_weights())
    train_a, train_b = a(x, training=True), b(x, training=True)
    np.testing.assert_array_equal(train_a, train_b)
    assert not np.allclose(train_a, a(x, training=False), atol=1e-4)


def test_float64_gradients_match_numeric_ones():
    """Every option on (zoneout at its inference expectation): gradients of
    the inputs and of every weight vs central differences in float64."""
    cell = ExtendedLSTMCell(3, proj_size=2, peephole=True, layer_norm=True,
                            zoneout_h=0.2, zoneout_c=0.1, dtype="float64")
    rnn = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    x = tf.Variable(np.random.default_rng(3).standard_normal((2, 4, 3)))
    rnn(x)
    rng = np.random.default_rng(4)
    for w in cell.weights:
        w.assign(w + rng.standard_normal(w.shape) * 0.3)
    upstream = rng.standard_normal((2, 4, 2))

    def loss():
        return float(tf.reduce_sum(rnn(x) * upstream))

    with tf.GradientTape() as tape:
        y = tf.reduce_sum(rnn(x) * upstream)
    variables = [x] + [w.value for w in cell.weights]
    analytic = tape.gradient(y, [x] + list(cell.weights))
    for variable, grad in zip(variables, analytic):
        value = variable.numpy()
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            for sign in (1, -1):
                moved = value.copy()
                moved[index] += sign * 1e-6
                variable.assign(moved)
                numeric[index] += sign * loss() / 2e-6
            variable.assign(value)
        np.testing.assert_allclose(np.asarray(grad), numeric, rtol=1e-5,
                                   atol=1e-7)


def test_masks_with_left_padding_and_empty_rows():
    """A row inside a masked batch gives what the row gives alone."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 6, 3)).astype("f")
    mask = np.ones((4, 6), bool)
    mask[1, :2] = False       # left padding
    mask[2, 4:] = False       # right padding
    mask[3] = False           # empty row
    # Seeded: the weights (and so the float32 rounding of a row alone
    # against the same row in a batch) must not depend on the tests before.
    keras.utils.set_random_seed(5)
    layer = LSTM(4, proj_size=2, peephole=True, layer_norm=True,
                 return_state=True)
    out, h, c = layer(x, mask=tf.constant(mask))
    for row in range(3):
        alone = layer(x[row:row + 1, mask[row]])
        np.testing.assert_allclose(out[row], alone[0][0], atol=1e-6)
        np.testing.assert_allclose(c[row], alone[2][0], atol=1e-6)
    np.testing.assert_array_equal(c[3], 0)


def test_keras_round_trip(tmp_path):
    model = keras.Sequential([
        keras.Input((None, 3)),
        LSTM(5, proj_size=3, peephole=True, layer_norm=True, zoneout_h=0.1,
             zoneout_c=0.2, recurrent_dropout=0.1, forget_bias=2.0)])
    model.save(tmp_path / "ext.keras")
    loaded = keras.models.load_model(tmp_path / "ext.keras")
    x = np.random.default_rng(6).standard_normal((2, 4, 3)).astype("f")
    np.testing.assert_array_equal(model(x), loaded(x))
    config = loaded.layers[0].get_config()
    assert (config["proj_size"], config["peephole"], config["layer_norm"],
            config["zoneout_c"]) == (3, True, True, 0.2)
    bias = loaded.layers[0].cell.bias.numpy()
    np.testing.assert_array_equal(model.layers[0].cell.bias.numpy(), bias)


def test_plain_options_keep_the_fused_cell():
    assert type(LSTM(4).cell).__name__ == "LSTMCell"
    assert type(LSTM(4, zoneout_h=0.0).cell).__name__ == "LSTMCell"


@pytest.mark.parametrize("kwargs", [dict(proj_size=0), dict(zoneout_h=1.5),
                                    dict(zoneout_c=-0.1)])
def test_rejects_bad_options(kwargs):
    with pytest.raises(ValueError):
        ExtendedLSTMCell(4, **{"peephole": True, **kwargs})
