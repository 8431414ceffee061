"""Layer options beyond Keras's: forget_bias, time_major,
trainable_initial_state (for the LSTM and the GRU)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfrnn.layers import GRU, LSTM, LSTMCell

both = pytest.mark.parametrize("layer_class", [LSTM, GRU], ids=["lstm", "gru"])
UNITS = 5


def inputs(batch=3, time=6, features=4, seed=0):
    return np.random.default_rng(seed).standard_normal(
        (batch, time, features)).astype("float32")


@pytest.mark.parametrize("forget_bias,unit_forget_bias,expected", [
    (None, True, 1.0), (None, False, 0.5), (2.5, True, 2.5), (0.0, True, 0.0),
    (-1.0, False, -1.0)])
def test_forget_bias_initial_value(forget_bias, unit_forget_bias, expected):
    layer = LSTM(UNITS, forget_bias=forget_bias,
                 unit_forget_bias=unit_forget_bias,
                 bias_initializer=keras.initializers.Constant(0.5))
    layer.build((2, 3, 4))
    bias = layer.cell.bias.numpy()
    np.testing.assert_array_equal(bias[UNITS:2 * UNITS], expected)
    # the other gates keep bias_initializer
    np.testing.assert_array_equal(np.delete(bias, np.s_[UNITS:2 * UNITS]),
                                  0.5)


def test_forget_bias_survives_config_and_keras_file(tmp_path):
    model = keras.Sequential([keras.Input((3, 4)), LSTM(UNITS, forget_bias=3)])
    assert model.layers[0].get_config()["forget_bias"] == 3.0
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].forget_bias == 3.0
    np.testing.assert_array_equal(loaded.layers[0].cell.bias.numpy(),
                                  model.layers[0].cell.bias.numpy())
    cell = LSTMCell(4, forget_bias=0.5)
    assert LSTMCell.from_config(cell.get_config()).forget_bias == 0.5


@both
@pytest.mark.parametrize("return_state", [False, True])
def test_time_major_equals_batch_major_transposed(layer_class, return_state):
    x = inputs()
    batch_major = layer_class(UNITS, return_sequences=True,
                              return_state=return_state)
    time_major = layer_class(UNITS, return_sequences=True,
                             return_state=return_state, time_major=True)
    batch_major.build(x.shape)
    time_major.build(np.transpose(x, (1, 0, 2)).shape)
    time_major.set_weights(batch_major.get_weights())
    want = tf.nest.flatten(batch_major(x))
    got = tf.nest.flatten(time_major(np.transpose(x, (1, 0, 2))))
    np.testing.assert_allclose(got[0], np.transpose(want[0], (1, 0, 2)),
                               rtol=1e-6, atol=1e-6)
    for a, b in zip(got[1:], want[1:]):  # final states stay [B, H]
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@both
def test_time_major_in_a_functional_model_with_a_mask(layer_class):
    tokens = np.array([[3, 4, 5, 0], [6, 0, 0, 0]])  # right-padded, [B, T]
    def model(time_major):
        ids = keras.Input((None,), dtype="int32")
        h = keras.layers.Embedding(10, 4, mask_zero=True)(ids)
        h = layer_class(UNITS, return_sequences=True,
                        time_major=time_major)(h)
        return keras.Model(ids, h)
    keras.utils.set_random_seed(0)
    batch_major, time_major = model(False), model(True)
    time_major.set_weights(batch_major.get_weights())
    assert time_major.output_shape == (None, None, UNITS)
    np.testing.assert_allclose(time_major(tokens.T),
                               np.transpose(batch_major(tokens), (1, 0, 2)),
                               rtol=1e-6, atol=1e-6)


def test_options_that_contradict_stateful_are_rejected():
    with pytest.raises(ValueError, match="time_major and stateful"):
        LSTM(UNITS, time_major=True, stateful=True)
    with pytest.raises(ValueError, match="trainable_initial_state and"):
        GRU(UNITS, trainable_initial_state=True, stateful=True)


@both
def test_trainable_initial_state(layer_class):
    x = inputs()
    learned = layer_class(UNITS, return_sequences=True,
                          trainable_initial_state=True)
    plain = layer_class(UNITS, return_sequences=True)
    learned.build(x.shape)
    plain.build(x.shape)
    names = sorted(w.name for w in learned.trainable_weights)
    assert "initial_h" in names
    assert ("initial_c" in names) == (layer_class is LSTM)
    # zeros at first: the same as no initial state
    plain.set_weights(learned.cell.get_weights())
    np.testing.assert_allclose(learned(x), plain(x), rtol=1e-6, atol=1e-6)
    # set: the same as passing that state to every sequence
    values = [np.full(w.shape, 0.3 * (k + 1), "float32")
              for k, w in enumerate(learned.initial_states)]
    for w, v in zip(learned.initial_states, values):
        w.assign(v)
    explicit = [np.tile(v, (x.shape[0], 1)) for v in values]
    np.testing.assert_allclose(learned(x), plain(x, initial_state=explicit),
                               rtol=1e-6, atol=1e-6)
    # an explicit initial_state still wins
    np.testing.assert_allclose(learned(x, initial_state=explicit),
                               plain(x, initial_state=explicit), rtol=1e-6)


@both
def test_trainable_initial_state_trains_and_round_trips(layer_class, tmp_path):
    x = inputs(batch=16)
    model = keras.Sequential([
        keras.Input(x.shape[1:]),
        layer_class(UNITS, trainable_initial_state=True)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    model.fit(x, np.ones((16, UNITS), "float32"), epochs=3, verbose=0)
    layer = model.layers[0]
    assert np.abs(layer.initial_states[0].numpy()).max() > 0  # it learned
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].trainable_initial_state
    np.testing.assert_array_equal(loaded(x), model(x))
