"""StackedRNN: PyTorch's num_layers / bidirectional / dropout semantics, its
initial states, packed sequences, time-major input, bias=False, proj_size,
the Elman RNN, and its (output, h_n[, c_n]) results."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfrnn.layers import StackedRNN
from paths import FIXTURES

DATA = np.load(os.path.join(FIXTURES,
                            "torch_rnn_reference.npz"))
STACKS = np.load(os.path.join(FIXTURES,
                              "torch_stacked_reference.npz"))
cells = pytest.mark.parametrize("cell", ["lstm", "gru"])
# torch_stacked_reference.npz case -> StackedRNN arguments (tests/fixtures/
# make_torch_stacks.py: 2 bidirectional layers of 5 units, packed lengths,
# given initial states)
TORCH_STACKS = {
    "rnn_tanh": dict(cell="rnn", nonlinearity="tanh"),
    "rnn_relu": dict(cell="rnn", nonlinearity="relu", bias=False),
    "lstm_proj": dict(cell="lstm", proj_size=2),
    "gru": dict(cell="gru"),
    "gru_time_major": dict(cell="gru", time_major=True),
}


def torch_state(mode):
    return {k[len(mode) + 1:]: DATA[k] for k in DATA.files
            if k.startswith(mode + "/") and not k.endswith("/output")}


@cells
def test_reproduces_pytorch_and_exports_its_state_dict(cell):
    layer = StackedRNN(4, cell=cell, num_layers=2, bidirectional=True)
    layer(DATA["x"])
    layer.load_torch_state_dict(torch_state(cell))
    np.testing.assert_allclose(layer(DATA["x"]), DATA[f"{cell}/output"],
                               rtol=1e-5, atol=1e-5)
    exported = layer.torch_state_dict()
    assert sorted(exported) == sorted(torch_state(cell))


def torch_stack(case):
    """(StackedRNN with the case's torch weights, its call's arguments,
    torch's output, torch's final states)."""
    get = lambda name: STACKS[f"{case}/{name}"]  # noqa: E731
    kwargs = TORCH_STACKS[case]
    layer = StackedRNN(5, num_layers=2, bidirectional=True, return_state=True,
                       state_layout="torch", **kwargs)
    x, output = get("x"), get("output")
    if kwargs.get("time_major"):
        x, output = np.swapaxes(x, 0, 1), np.swapaxes(output, 0, 1)
    lstm = kwargs["cell"] == "lstm"
    args = dict(initial_state=(get("h0"), get("c0")) if lstm else get("h0"),
                sequence_length=STACKS["lengths"])
    layer(x, **args)
    layer.load_torch_state_dict(
        {k.split("/", 1)[1]: STACKS[k] for k in STACKS.files
         if k.startswith(case + "/") and k.split("/")[1][:4] in ("weig",
                                                                 "bias")})
    final = (get("h_n"), get("c_n")) if lstm else get("h_n")
    return layer, x, args, output, final


@pytest.mark.parametrize("case", sorted(TORCH_STACKS))
def test_reproduces_torch_packed_sequences_from_initial_states(case):
    layer, x, args, want_output, want_final = torch_stack(case)
    output, final = layer(x, **args)
    np.testing.assert_allclose(output, want_output, rtol=1e-5, atol=1e-5)
    for got, want in zip(tf.nest.flatten(final), tf.nest.flatten(want_final)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["rnn_relu", "lstm_proj"])
def test_torch_stack_round_trips_a_keras_file(case, tmp_path):
    layer, x, args, _, _ = torch_stack(case)
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    path = str(tmp_path / "stack.keras")
    model.save(path)
    loaded = keras.models.load_model(path).layers[0]
    assert loaded.get_config() == layer.get_config()
    for got, want in zip(tf.nest.flatten(loaded(x, **args)),
                         tf.nest.flatten(layer(x, **args))):
        np.testing.assert_array_equal(got, want)


def test_integer_inputs_are_cast_as_keras_does():
    layer = StackedRNN(3, cell="gru", num_layers=2)
    ints = np.arange(24).reshape(2, 4, 3) % 5
    np.testing.assert_array_equal(layer(ints), layer(ints.astype("float32")))


def test_state_dict_of_another_shape_is_rejected():
    layer = StackedRNN(4, cell="lstm", num_layers=1)
    layer(DATA["x"])
    with pytest.raises(ValueError, match="holds layers"):
        layer.load_torch_state_dict(torch_state("lstm"))


def keras_twin(stacked, cell):
    """The same stack built from Keras's own layers, weights copied."""
    keras_class = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    inputs = keras.Input((None,), dtype="int32")
    h = keras.layers.Embedding(12, 6, mask_zero=True)(inputs)
    layers = []
    for k in range(stacked.num_layers):
        last = k == stacked.num_layers - 1
        layer = keras_class(4, return_sequences=stacked.return_sequences
                            or not last)
        if stacked.bidirectional:
            layer = keras.layers.Bidirectional(layer)
        layers.append(layer)
        h = layer(h)
    return keras.Model(inputs, h), layers


@cells
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("padding", ["right", "left"])
def test_matches_keras_layers_stacked_by_hand(cell, bidirectional,
                                              return_sequences, padding):
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 12, size=(5, 7))
    for row, n in enumerate([7, 4, 1, 0, 6]):
        if padding == "right":
            tokens[row, n:] = 0
        else:
            tokens[row, :7 - n] = 0
    inputs = keras.Input((None,), dtype="int32")
    embedding = keras.layers.Embedding(12, 6, mask_zero=True)
    stacked = StackedRNN(4, cell=cell, num_layers=3,
                         bidirectional=bidirectional, dropout=0.5,
                         return_sequences=return_sequences)
    ours = keras.Model(inputs, stacked(embedding(inputs)))
    reference, ref_layers = keras_twin(stacked, cell)
    reference.layers[1].set_weights(embedding.get_weights())
    for ref_layer, our_layer in zip(ref_layers, stacked.recurrent_layers):
        ref_layer.set_weights(our_layer.get_weights())
    # inference: the dropout between layers is off
    np.testing.assert_allclose(ours(tokens), reference(tokens), rtol=1e-5,
                               atol=1e-5)


@cells
def test_dropout_between_layers_only_in_training_and_seeded(cell):
    x = np.random.default_rng(1).standard_normal((4, 6, 3)).astype("float32")

    def make():
        layer = StackedRNN(8, cell=cell, num_layers=2, dropout=0.5, seed=3)
        layer(x)
        return layer

    a, b = make(), make()
    b.set_weights(a.get_weights())
    inference = a(x, training=False)
    trained = a(x, training=True)
    assert not np.allclose(trained, inference)
    np.testing.assert_allclose(b(x, training=True), trained, rtol=1e-6)
    one_layer = StackedRNN(8, cell=cell, num_layers=1, dropout=0.5)
    one_layer(x)
    np.testing.assert_array_equal(one_layer(x, training=True),
                                  one_layer(x, training=False))


@cells
def test_return_state_in_pytorch_order(cell):
    x = np.random.default_rng(2).standard_normal((3, 5, 2)).astype("float32")
    layer = StackedRNN(4, cell=cell, num_layers=2, bidirectional=True,
                       return_state=True)
    output, states = layer(x)
    assert len(states) == 4
    per_direction = {(k, d): sub for k, d, sub in layer.directions()}
    h = x
    for k in range(2):
        fwd, bwd = per_direction[(k, "forward")], per_direction[(k, "backward")]
        y_f, *s_f = fwd(h)
        y_b, *s_b = bwd(h)
        for got, want in zip(states[2 * k] + states[2 * k + 1], s_f + s_b):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        h = np.concatenate([y_f, np.flip(y_b, 1)], -1)
    np.testing.assert_allclose(output, h, rtol=1e-6, atol=1e-6)


def test_keras_file_round_trip(tmp_path):
    x = np.random.default_rng(3).standard_normal((2, 5, 3)).astype("float32")
    model = keras.Sequential([
        keras.Input((5, 3)),
        StackedRNN(4, cell="gru", num_layers=2, bidirectional=True,
                   dropout=0.1, layer_kwargs={"recurrent_dropout": 0.1})])
    path = str(tmp_path / "stacked.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_array_equal(loaded(x), model(x))


@pytest.mark.parametrize("kwargs,message", [
    (dict(cell="transformer"), "cell"), (dict(num_layers=0), "num_layers"),
    (dict(dropout=1.0), "dropout"),
    (dict(cell="rnn", nonlinearity="sigmoid"), "nonlinearity"),
    (dict(cell="gru", proj_size=2), "proj_size"),
    (dict(state_layout="keras"), "state_layout")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StackedRNN(4, **kwargs)


def test_bad_call_arguments():
    x = np.zeros((2, 3, 1), "float32")
    layer = StackedRNN(4, cell="lstm", num_layers=2)
    with pytest.raises(ValueError, match=r"\(h0, c0\)"):
        layer(x, initial_state=np.zeros((2, 2, 4), "float32"))
    with pytest.raises(ValueError, match="not both"):
        layer(x, mask=np.ones((2, 3), bool), sequence_length=[3, 1])
