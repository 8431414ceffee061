"""Weight interop: PyTorch state dicts (outputs PyTorch computed, stored in
tests/fixtures by make_torch_reference.py; no torch needed) and TF BlockLSTM."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrnn
from tfrnn import interop
from paths import FIXTURES

DATA = np.load(os.path.join(FIXTURES,
                            "torch_rnn_reference.npz"))


def torch_state(mode):
    prefix = mode + "/"
    return {k[len(prefix):]: DATA[k] for k in DATA.files
            if k.startswith(prefix) and not k.endswith("/output")}


@pytest.mark.parametrize("mode,layer_class", [("lstm", tfrnn.layers.LSTM),
                                              ("gru", tfrnn.layers.GRU)])
def test_two_layer_bidirectional_reproduces_pytorch(mode, layer_class):
    weights = interop.from_torch(torch_state(mode), mode)
    assert sorted(weights) == [(0, "backward"), (0, "forward"),
                               (1, "backward"), (1, "forward")]
    x = DATA["x"]
    h = inputs = keras.Input(x.shape[1:])
    stack = []
    for _ in range(2):
        layer = keras.layers.Bidirectional(
            layer_class(4, return_sequences=True), merge_mode="concat")
        stack.append(layer)
        h = layer(h)
    model = keras.Model(inputs, h)
    for k, layer in enumerate(stack):
        layer.forward_layer.set_weights(weights[(k, "forward")])
        layer.backward_layer.set_weights(weights[(k, "backward")])
    np.testing.assert_allclose(model(x), DATA[f"{mode}/output"], rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("mode,activation", [("rnn_tanh", "tanh"),
                                             ("rnn_relu", "relu")])
def test_simple_rnn_reproduces_pytorch(mode, activation):
    weights = interop.from_torch(torch_state(mode), mode)
    layer = keras.layers.SimpleRNN(4, activation=activation,
                                   return_sequences=True)
    layer.build(DATA["x"].shape)
    layer.set_weights(weights[(0, "forward")])
    np.testing.assert_allclose(layer(DATA["x"]), DATA[f"{mode}/output"],
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_round_trip_through_torch_layout(mode):
    state = torch_state(mode)
    back = interop.to_torch(interop.from_torch(state, mode), mode)
    assert sorted(back) == sorted(state)
    for key, value in state.items():
        if mode != "gru" and key.startswith("bias_"):
            continue  # one Keras bias: only the sum of the two survives
        np.testing.assert_array_equal(back[key], value, err_msg=key)
    for key in state:
        if key.startswith("bias_ih"):
            hh = key.replace("bias_ih", "bias_hh")
            np.testing.assert_allclose(back[key] + back[hh],
                                       state[key] + state[hh], rtol=1e-6)


def test_state_dict_without_bias_and_with_module_prefix():
    state = {f"rnn.{k}": v for k, v in torch_state("rnn_tanh").items()
             if k.startswith("weight")}
    weights = interop.from_torch(state, "rnn_tanh")
    assert len(weights[(0, "forward")]) == 2


@pytest.mark.parametrize("state,message", [
    ({"weight_ih_l0": np.zeros((8, 3))}, "lacks"),
    ({"linear.weight": np.zeros((2, 2))}, "not a recurrent weight"),
    ({"weight_hr_l0": np.zeros((2, 4))}, "lacks"),
    ({"weight_ih_l0": np.zeros((16, 3)), "weight_hh_l0": np.zeros((16, 4)),
      "weight_hr_l0": np.zeros((2, 4))}, "expected"),
])
def test_bad_state_dicts_are_rejected(state, message):
    with pytest.raises(ValueError, match=message):
        interop.from_torch(state, "lstm")


def test_projection_weights_exist_for_lstms_only():
    with pytest.raises(ValueError, match="LSTMs only"):
        interop.from_torch({"weight_hr_l0": np.zeros((2, 4))}, "gru")


def test_mode_mismatch_is_caught():
    with pytest.raises(ValueError, match="expected"):
        interop.from_torch(torch_state("gru"), "lstm")
    with pytest.raises(ValueError, match="mode"):
        interop.from_torch(torch_state("gru"), "transformer")


@pytest.mark.parametrize("forget_bias", [0.0, 1.0])
def test_block_lstm_weights_reproduce_tf_block_lstm(forget_bias):
    rng = np.random.default_rng(0)
    batch, time, features, units = 3, 6, 4, 5
    x = rng.standard_normal((time, batch, features)).astype("float32")
    w = (0.4 * rng.standard_normal((features + units, 4 * units))).astype("f")
    b = (0.4 * rng.standard_normal(4 * units)).astype("float32")
    zeros = tf.zeros([batch, units])
    block = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.constant(time, tf.int64), x=x, cs_prev=zeros,
        h_prev=zeros, w=w, wci=tf.zeros([units]), wcf=tf.zeros([units]),
        wco=tf.zeros([units]), b=b, forget_bias=forget_bias, cell_clip=-1.0,
        use_peephole=False)
    expected = np.transpose(block.h.numpy(), (1, 0, 2))
    layer = tfrnn.layers.LSTM(units, return_sequences=True)
    layer.build((batch, time, features))
    layer.set_weights(interop.from_block_lstm(w, b, forget_bias))
    np.testing.assert_allclose(layer(np.transpose(x, (1, 0, 2))), expected,
                               rtol=1e-5, atol=1e-5)
    w2, b2 = interop.to_block_lstm(*layer.get_weights(), forget_bias)
    np.testing.assert_allclose(w2, w, rtol=1e-6)
    np.testing.assert_allclose(b2, b, rtol=1e-6, atol=1e-6)
