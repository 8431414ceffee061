"""StackedRNN: PyTorch's num_layers / bidirectional / dropout semantics."""

import os

import keras
import numpy as np
import pytest

from tfrnn.layers import StackedRNN

DATA = np.load(os.path.join(os.path.dirname(__file__), "data",
                            "torch_rnn_reference.npz"))
cells = pytest.mark.parametrize("cell", ["lstm", "gru"])


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
    (dict(dropout=1.0), "dropout")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StackedRNN(4, **kwargs)
