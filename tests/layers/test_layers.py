"""tfrnn's LSTM, GRU and SimpleRNN layers and cells against Keras's own,
inside real models. Tests taking `kind` run for all three."""

import numpy as np
import pytest
import keras
import tensorflow as tf

import tfrnn
from tfrnn.cells import CELLS
from tfrnn.layers import (GRU, LSTM, GRUCell, LSTMCell, SimpleRNN,
                          SimpleRNNCell)

VOCAB, EMBED, UNITS = 12, 6, 8
# kind -> (our layer, Keras's layer, our cell, Keras's cell)
KINDS = {
    "lstm": (LSTM, keras.layers.LSTM, LSTMCell, keras.layers.LSTMCell),
    "gru": (GRU, keras.layers.GRU, GRUCell, keras.layers.GRUCell),
    "rnn": (SimpleRNN, keras.layers.SimpleRNN, SimpleRNNCell,
            keras.layers.SimpleRNNCell),
}
OP_TYPES = {name: cell.op for name, cell in CELLS.items()}
both = pytest.mark.parametrize("kind", sorted(KINDS))


def token_batch(padding):
    """Token ids (0 = padding) with rows of every interesting kind."""
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, VOCAB, size=(6, 9))
    lengths = [9, 5, 1, 0, 7, 3]
    for row, length in enumerate(lengths):
        if padding == "right":
            tokens[row, length:] = 0
        elif padding == "left":
            tokens[row, :9 - length] = 0
        elif padding == "holes":
            tokens[row, rng.random(9) < 0.3] = 0
    return tokens


def twin_models(layer_kwargs, stack=1, kind="lstm"):
    """The same Embedding(mask_zero) -> RNN model with Keras's layer and with
    ours, sharing weights."""
    def build(lstm_class):
        inputs = keras.Input((None,), dtype="int32")
        h = keras.layers.Embedding(VOCAB, EMBED, mask_zero=True)(inputs)
        for i in range(stack):
            kwargs = dict(layer_kwargs)
            if i < stack - 1:
                kwargs.update(return_sequences=True, return_state=False)
            h = lstm_class(UNITS, **kwargs)(h)
        return keras.Model(inputs, h)

    keras.utils.set_random_seed(1)
    reference = build(KINDS[kind][1])
    ours = build(KINDS[kind][0])
    ours.set_weights(reference.get_weights())
    return reference, ours


def assert_same_outputs(a, b, tol=1e-5):
    for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol,
                                   atol=tol)


LAYER_CASES = [
    dict(),
    dict(return_sequences=True),
    dict(return_sequences=True, zero_output_for_mask=True),
    dict(zero_output_for_mask=True),
    dict(go_backwards=True),
    dict(go_backwards=True, return_sequences=True),
    dict(return_state=True),
    dict(return_sequences=True, return_state=True, go_backwards=True),
    dict(use_bias=False, return_sequences=True),
]
KIND_CASES = {"lstm": [dict(unit_forget_bias=False)],
              "gru": [dict(reset_after=False, return_sequences=True)],
              "rnn": [dict(activation="relu", return_sequences=True)]}
# Options no fused op runs: Keras's loop over our cell.
UNFUSED_CASES = {
    "lstm": [dict(activation="relu"),
             dict(recurrent_activation="hard_sigmoid")],
    "gru": [dict(activation="relu"),
            dict(recurrent_activation="hard_sigmoid")],
    "rnn": [dict(activation="sigmoid")],
}


@pytest.mark.parametrize("padding", ["none", "right", "left", "holes"])
@pytest.mark.parametrize("kind,kwargs", [
    (kind, kwargs) for kind in sorted(KINDS)
    for kwargs in LAYER_CASES + KIND_CASES[kind]], ids=str)
def test_matches_keras_in_a_model(kind, kwargs, padding):
    reference, ours = twin_models(kwargs, kind=kind)
    tokens = token_batch(padding)
    assert_same_outputs(ours(tokens), reference(tokens))


@pytest.mark.parametrize("padding", ["right", "holes"])
@both
def test_stacked_and_compiled_predict_matches_keras(kind, padding):
    reference, ours = twin_models(dict(return_sequences=True), stack=2,
                                  kind=kind)
    tokens = token_batch(padding)
    assert_same_outputs(ours.predict(tokens, verbose=0),
                        reference.predict(tokens, verbose=0))


@pytest.mark.parametrize("padding", ["right", "left", "holes"])
@both
def test_training_gradients_match_keras(kind, padding):
    reference, ours = twin_models(dict(return_sequences=True), stack=2,
                                  kind=kind)
    tokens = token_batch(padding)
    target = np.random.default_rng(2).standard_normal((6, 9, UNITS))

    def grads(model):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum((model(tokens, training=True) - target) ** 2)
        return [tf.convert_to_tensor(g)  # the embedding's are IndexedSlices
                for g in tape.gradient(loss, model.trainable_weights)]

    for a, b in zip(grads(ours), grads(reference)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@both
def test_initial_state_matches_keras(kind):
    ours_class, keras_class = KINDS[kind][:2]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6, 3)).astype("float32")
    states = [rng.standard_normal((4, UNITS)).astype("float32")
              for _ in range(2 if kind == "lstm" else 1)]
    reference = keras_class(UNITS, return_sequences=True, return_state=True)
    ours = ours_class(UNITS, return_sequences=True, return_state=True)
    reference(x, initial_state=states)
    ours.build(x.shape)
    ours.set_weights(reference.get_weights())
    assert_same_outputs(ours(x, initial_state=states),
                        reference(x, initial_state=states))


@both
def test_stateful_carries_state_across_calls_and_resets(kind):
    layer_class = KINDS[kind][0]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 10, 2)).astype("float32")
    whole = layer_class(UNITS, return_sequences=True)
    stateful = layer_class(UNITS, return_sequences=True, stateful=True)
    whole.build(x.shape)
    stateful.build(x.shape)
    stateful.set_weights(whole.get_weights())
    halves = [stateful(x[:, :5]), stateful(x[:, 5:])]
    assert_same_outputs(np.concatenate(halves, 1), whole(x))
    stateful.reset_state()
    assert_same_outputs(stateful(x[:, :5]), whole(x[:, :5]))


@pytest.mark.parametrize("kind,kwargs", [
    (kind, kwargs) for kind in sorted(KINDS)
    for kwargs in UNFUSED_CASES[kind] + [dict(unroll=True)]], ids=str)
def test_options_the_op_lacks_still_match_keras(kind, kwargs):
    reference, ours = twin_models(dict(return_sequences=True, **kwargs),
                                  kind=kind)
    tokens = token_batch("right")
    assert_same_outputs(ours(tokens), reference(tokens))


@pytest.mark.parametrize("kwargs", [dict(dropout=0.3),
                                    dict(recurrent_dropout=0.3),
                                    dict(dropout=0.2, recurrent_dropout=0.2)],
                         ids=str)
@both
def test_dropout_matches_keras_with_the_same_seed(kind, kwargs):
    """Keras's per-gate dropout masks (implementation=1, which Keras always
    uses with recurrent_dropout); tfrnn's default single recurrent mask is
    tested in test_recurrent_dropout.py."""
    # Keras's SimpleRNN has one recurrent mask itself.
    if "recurrent_dropout" in kwargs and kind != "rnn":
        kwargs = dict(kwargs, implementation=1)
    reference, ours = twin_models(dict(return_sequences=True, seed=7,
                                       **kwargs), kind=kind)
    tokens = token_batch("right")
    train_ours = ours(tokens, training=True)
    assert_same_outputs(train_ours, reference(tokens, training=True))
    inference = ours(tokens, training=False)
    assert not np.allclose(train_ours, inference)  # dropout did something
    assert_same_outputs(inference, reference(tokens, training=False))


@both
def test_fit_reduces_loss_on_a_masked_task(kind):
    """Predict the number of tokens above VOCAB/2 in a variable-length row."""
    rng = np.random.default_rng(5)
    tokens = rng.integers(1, VOCAB, size=(512, 12))
    lengths = rng.integers(1, 13, size=512)
    tokens[np.arange(12)[None, :] >= lengths[:, None]] = 0
    target = ((tokens > VOCAB // 2).sum(1) / 6.0).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(VOCAB, EMBED, mask_zero=True),
        KINDS[kind][0](16), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    history = model.fit(tokens, target, epochs=8, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.2 * losses[0], losses


@both
def test_keras_file_round_trip(kind, tmp_path):
    options = dict(return_sequences=True, dropout=0.1, recurrent_dropout=0.1,
                   seed=3, kernel_regularizer="l2")
    options.update(KIND_CASES[kind][0])  # a non-default, kind-specific option
    reference, ours = twin_models(options, stack=2, kind=kind)
    path = str(tmp_path / "model.keras")
    ours.save(path)
    loaded = keras.models.load_model(path)
    layers = [l for l in loaded.layers if kind in l.name]
    assert len(layers) == 2
    assert all(type(l) is KINDS[kind][0] for l in layers)
    assert layers[-1].get_config() == ours.layers[-1].get_config()
    tokens = token_batch("right")
    np.testing.assert_array_equal(loaded(tokens), ours(tokens))


@both
def test_cell_keras_file_round_trip_in_rnn(kind, tmp_path):
    cell_class = KINDS[kind][2]
    model = keras.Sequential([keras.Input((5, 3)),
                              keras.layers.RNN(cell_class(4))])
    path = str(tmp_path / "cell.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.layers[0].cell) is cell_class
    x = np.random.default_rng(6).standard_normal((2, 5, 3)).astype("float32")
    np.testing.assert_array_equal(loaded(x), model(x))


@both
def test_cell_in_keras_rnn_matches_keras_cell(kind):
    ours_cell, keras_cell = KINDS[kind][2:]
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 6, 4)).astype("float32")
    reference = keras.layers.RNN(keras_cell(5), return_sequences=True)
    ours = keras.layers.RNN(ours_cell(5), return_sequences=True)
    reference(x)
    ours.build(x.shape)
    ours.set_weights(reference.get_weights())
    assert_same_outputs(ours(x), reference(x))


@both
def test_not_xla_compilable_and_fit_with_jit_auto(kind):
    layer = KINDS[kind][0](4)
    assert layer.supports_jit is False
    model = keras.Sequential([keras.Input((5, 3)), layer])
    model.compile("sgd", "mse", jit_compile="auto")
    x = np.ones((8, 5, 3), "float32")
    model.fit(x, np.zeros((8, 4), "float32"), epochs=1, verbose=0)


@both
def test_mixed_precision_float16(kind):
    layer_class = KINDS[kind][0]
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        layer = layer_class(4, return_sequences=True)
        y = layer(np.ones((2, 5, 3), "float32"))
        assert y.dtype == "float16" and layer.cell.kernel.dtype == "float32"
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    ref = layer_class(4, return_sequences=True)
    ref.build((2, 5, 3))
    ref.set_weights(layer.get_weights())
    np.testing.assert_allclose(y, ref(np.ones((2, 5, 3), "float32")),
                               atol=5e-3)


@pytest.mark.parametrize("kind,op_type", sorted(OP_TYPES.items()))
def test_layer_uses_the_fused_op(kind, op_type):
    """The fused path is what the parity tests measured (not Keras's loop)."""
    layer = KINDS[kind][0](4)

    @tf.function
    def run(x):
        return layer(x)

    graph = run.get_concrete_function(
        tf.TensorSpec((2, 5, 3), tf.float32)).graph
    op_types = {op.type for op in graph.get_operations()}
    assert tfrnn.ops.custom_ops_available()
    assert op_type in op_types and "While" not in op_types


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("kind,op_type", sorted(OP_TYPES.items()))
def test_any_mask_runs_the_fused_op(kind, op_type, go_backwards):
    """Left padding and holes run the op too (rows packed), not Keras's
    loop, and still give Keras's numbers (the parity tests above)."""
    layer = KINDS[kind][0](4, return_sequences=True, go_backwards=go_backwards)

    @tf.function
    def run(x, mask):
        return layer(x, mask=mask)

    graph = run.get_concrete_function(
        tf.TensorSpec((2, 5, 3), tf.float32),
        tf.TensorSpec((2, 5), tf.bool)).graph
    op_types = {op.type for op in graph.get_operations()}
    assert op_type in op_types and "While" not in op_types
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    mask = np.array([[0, 1, 0, 1, 1], [1, 0, 0, 0, 0]], bool)
    keras_layer = KINDS[kind][1](4, return_sequences=True,
                                 go_backwards=go_backwards)
    keras_layer.build(x.shape)
    keras_layer.set_weights(layer.get_weights())
    assert_same_outputs(run(x, mask), keras_layer(x, mask=mask))


@both
def test_empty_batch_works_and_zero_steps_is_a_clear_error(kind):
    layer = KINDS[kind][0](4, return_sequences=True, return_state=True)
    output, h, *_ = layer(np.zeros((0, 5, 3), "float32"))
    assert output.shape == (0, 5, 4) and h.shape == (0, 4)
    with pytest.raises(ValueError, match="0 time steps"):
        layer(np.zeros((2, 0, 3), "float32"))


@both
@pytest.mark.parametrize("padding", ["none", "right", "left"])
def test_bidirectional_wrapper_matches_keras_and_runs_our_op(kind, padding):
    ours_class, keras_class = KINDS[kind][:2]

    def build(layer_class):
        inputs = keras.Input((None,), dtype="int32")
        h = keras.layers.Embedding(VOCAB, EMBED, mask_zero=True)(inputs)
        h = keras.layers.Bidirectional(
            layer_class(UNITS, return_sequences=True))(h)
        return keras.Model(inputs, h)

    keras.utils.set_random_seed(2)
    reference, ours = build(keras_class), build(ours_class)
    ours.set_weights(reference.get_weights())
    tokens = token_batch(padding)
    assert_same_outputs(ours(tokens), reference(tokens))

    graph_def = tf.function(ours).get_concrete_function(
        tf.TensorSpec((2, 5), tf.int32)).graph.as_graph_def()
    # With a mask the fused calls sit in tf.cond branch functions.
    nodes = list(graph_def.node) + [
        n for f in graph_def.library.function for n in f.node_def]
    assert sum(n.op == OP_TYPES[kind] for n in nodes) == 2  # one per direction


@both
def test_integer_inputs_are_cast_to_the_compute_dtype(kind):
    """As Keras's own layers take them (they used to raise "x must be
    float16, bfloat16, float32 or float64, got int64")."""
    layer = KINDS[kind][0](4, return_sequences=True)
    ints = np.arange(30).reshape(2, 5, 3) % 4
    np.testing.assert_array_equal(layer(ints), layer(ints.astype("float32")))
    np.testing.assert_array_equal(layer(tf.constant(ints, tf.int64)),
                                  layer(ints.astype("float32")))
