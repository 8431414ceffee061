"""The LSTM's options (tfrnn.layers.lstm_options): projection vs PyTorch's
LSTM(proj_size), peepholes vs TensorFlow's BlockLSTMV2, layer norm and
zoneout vs numpy; on the fused op (every option, the projection too)
against the pure-TF reference and Keras's step loop over the same cell,
float64 numeric gradients with every option on, masks, .keras."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfrnn import interop
from tfrnn import ops
from tfrnn.layers import LSTM, ExtendedLSTMCell, LSTMCell, lstm_options
from tfrnn.ops import reference
from tfrnn.ops.loader import library
from paths import FIXTURES

DATA = np.load(os.path.join(FIXTURES,
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


@pytest.mark.parametrize("cell_clip", [None, 0.5])
def test_peepholes_and_clip_match_tensorflow_block_lstm(cell_clip):
    """BlockLSTM (gate order i, c, f, o, forget_bias inside the op, via
    tfrnn.interop) and BlockLSTMV2 (Keras's order i, f, c, o), with and
    without their cell_clip (BlockLSTM: negative for none, V2: 0)."""
    rng = np.random.default_rng(0)
    B, T, I, H = 3, 6, 4, 5
    x = rng.standard_normal((B, T, I)).astype("f") * 2
    layer = LSTM(H, peephole=True, cell_clip=cell_clip,
                 return_sequences=True)
    layer(x)
    kernel, recurrent, bias, _ = layer.get_weights()
    peep = rng.standard_normal((3, H)).astype("f")
    layer.set_weights([kernel, recurrent, bias, peep])
    w, b = interop.to_block_lstm(kernel, recurrent, bias, forget_bias=1.0)
    common = dict(seq_len_max=tf.constant(T, tf.int64),
                  x=tf.transpose(x, [1, 0, 2]), cs_prev=tf.zeros([B, H]),
                  h_prev=tf.zeros([B, H]), wci=peep[0], wcf=peep[1],
                  wco=peep[2], use_peephole=True)
    v1 = tf.raw_ops.BlockLSTM(w=w, b=b, forget_bias=1.0,
                              cell_clip=cell_clip or -1.0, **common)
    v2 = tf.raw_ops.BlockLSTMV2(w=np.concatenate([kernel, recurrent]),
                                b=bias, cell_clip=cell_clip or 0.0, **common)
    if cell_clip:
        assert np.abs(v2.cs).max() == pytest.approx(cell_clip)  # it clips
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
        np.testing.assert_allclose(np.asarray(grad),
                                   numeric_gradient(variable, loss),
                                   rtol=1e-5, atol=1e-7)


def numeric_gradient(variable, loss, step=1e-6):
    """Central differences of loss() (a float) w.r.t. a tf.Variable."""
    value = variable.numpy()
    numeric = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        for sign in (1, -1):
            moved = value.copy()
            moved[index] += sign * step
            variable.assign(moved)
            numeric[index] += sign * loss() / (2 * step)
        variable.assign(value)
    return numeric


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


def test_the_cell_is_one_class_and_the_old_name_still_loads():
    assert type(LSTM(4, peephole=True).cell) is LSTMCell
    config = keras.saving.serialize_keras_object(
        LSTMCell(4, peephole=True, cell_clip=3.0))
    config["class_name"] = "ExtendedLSTMCell"  # a file saved before
    cell = keras.saving.deserialize_keras_object(config)
    assert isinstance(cell, LSTMCell)
    assert (cell.peephole, cell.cell_clip) == (True, 3.0)


@pytest.mark.parametrize("kwargs", [dict(proj_size=0), dict(zoneout_h=1.5),
                                    dict(zoneout_c=-0.1), dict(cell_clip=0),
                                    dict(cell_clip=-2.0)])
def test_rejects_bad_options(kwargs):
    with pytest.raises(ValueError):
        ExtendedLSTMCell(4, **{"peephole": True, **kwargs})


# ---- the options on the fused op --------------------------------------

needs_op = pytest.mark.skipif(library.ops is None,
                              reason="the compiled op is not loaded")
OP_OPTIONS = {
    "peephole": dict(peephole=True),
    "cell_clip": dict(cell_clip=0.6),
    "zoneout": dict(zoneout_h=0.3, zoneout_c=0.2),
    "layer_norm": dict(layer_norm=True),
    "all_but_layer_norm": dict(peephole=True, cell_clip=0.6, zoneout_h=0.3,
                               zoneout_c=0.2),
    "all": dict(peephole=True, cell_clip=0.6, zoneout_h=0.3, zoneout_c=0.2,
                layer_norm=True),
    "proj_size": dict(proj_size=3),
    "all_with_proj_size": dict(peephole=True, cell_clip=0.6, zoneout_h=0.3,
                               zoneout_c=0.2, layer_norm=True, proj_size=2),
}
LAYER_NORM = ("gain_x", "gain_h", "gain_c", "shift_c")
OFF_NAMES = ("peephole", "zoneout_h", "zoneout_c", "cell_clip") + LAYER_NORM


def option_problem(seed=0, B=3, T=5, I=3, H=4, P=None):
    """float64 inputs and weights (peepholes and the layer norm's too), rows
    of lengths T, 2, 0, and per-step zoneout masks for h (half the units
    keep) and a scalar for c: every option's path, empty rows included.
    P: with a projection [H, P] (h, U's rows and zoneout_h P wide)."""
    rng = np.random.default_rng(seed)
    n = rng.standard_normal
    lengths = np.array([T, 2, 0][:B] + [T] * max(0, B - 3), np.int32)
    width = H if P is None else P
    return dict(x=n((B, T, I)), h0=n((B, width)) * 0.5, c0=n((B, H)),
                kernel=n((I, 4 * H)) * 0.6,
                recurrent_kernel=n((width, 4 * H)) * 0.6,
                bias=n(4 * H) * 0.3, peephole=n((3, H)) * 0.5,
                sequence_length=lengths,
                zoneout_h=(rng.uniform(size=(B, T, width)) < 0.5).astype(
                    "f8"),
                zoneout_c=0.25, cell_clip=0.8,
                gain_x=1 + n(4 * H) * 0.3, gain_h=1 + n(4 * H) * 0.3,
                gain_c=1 + n(H) * 0.3, shift_c=n(H) * 0.3,
                projection=None if P is None else n((H, P)) * 0.6)


WATCHED = ("x", "h0", "c0", "kernel", "recurrent_kernel", "bias",
           "peephole") + LAYER_NORM + ("projection",)


def layer_norm_arg(a):
    """a's four layer-norm weights as the ops' one argument (None: off)."""
    weights = [a.pop(k) for k in LAYER_NORM]
    return None if weights[0] is None else tuple(weights)


def op_lstm(**a):
    """tfrnn.ops.lstm_sequence on the problem's keys."""
    layer_norm = layer_norm_arg(a)
    return ops.lstm_sequence(**a, layer_norm=layer_norm)


def results_and_grads(fn, problem, upstream_seed=1):
    """(outputs, gradients of a random linear loss w.r.t. the WATCHED
    inputs the problem has)."""
    tensors = {k: tf.constant(problem[k]) for k in WATCHED
               if problem[k] is not None}
    rest = {k: v for k, v in problem.items() if k not in tensors}
    rng = np.random.default_rng(upstream_seed)
    with tf.GradientTape() as tape:
        tape.watch(list(tensors.values()))
        results = fn(**tensors, **rest)
        loss = sum(tf.reduce_sum(r * rng.standard_normal(r.shape))
                   for r in results)
    grads = tape.gradient(loss, list(tensors.values()))
    return [r.numpy() for r in results], [g.numpy() for g in grads]


def reference_lstm(sequence_length, zoneout_h, zoneout_c, cell_clip, **a):
    """The pure-TF reference with the wrapper's conversions (None: off)."""
    as_tensor = lambda z: None if z is None else tf.constant(  # noqa: E731
        z, tf.float64)
    layer_norm = layer_norm_arg(a)
    return reference.lstm_sequence(
        sequence_length=tf.constant(sequence_length),
        zoneout_h=as_tensor(zoneout_h), zoneout_c=as_tensor(zoneout_c),
        cell_clip=-1.0 if cell_clip is None else float(np.float32(cell_clip)),
        layer_norm_weights=layer_norm,
        layer_norm_epsilon=float(np.float32(1e-3)), **a)


@needs_op
@pytest.mark.parametrize("projected", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("off", [None, "peephole", "zoneout_h", "zoneout_c",
                                 "cell_clip", "layer_norm", "all"])
def test_op_options_match_the_reference_in_float64(reverse, off, projected):
    """Every option on, all but one, or none (with and without a
    projection, P < H): outputs, final states and every gradient
    (dpeephole, the layer norm's and the projection's included) against the
    stock-op reference."""
    p = option_problem(P=2 if projected else None)
    for name in {"layer_norm": LAYER_NORM, "all": list(OFF_NAMES)}.get(
            off, [off] if off else []):
        p[name] = None
    got = results_and_grads(lambda **a: op_lstm(**a, reverse=reverse), p)
    want = results_and_grads(
        lambda **a: reference_lstm(**a, reverse=reverse), p)
    for g, w in zip(got[0] + got[1], want[0] + want[1]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@needs_op
@pytest.mark.parametrize("P", [None, 2, 4])
def test_op_gradients_with_every_option_on_match_numeric_ones(P):
    """Central differences in float64 for every input and weight (the
    zoneout weights are data: no gradient), without a projection and with
    one narrower and wider than H."""
    p = option_problem(seed=2, B=2, T=4, I=2, H=3, P=P)
    width = 3 if P is None else P
    upstream = np.random.default_rng(3)
    weights = [upstream.standard_normal(s) for s in
               ((2, 4, width), (2, width), (2, 3))]

    def loss(**a):
        results = op_lstm(**a)
        return sum(tf.reduce_sum(r * w) for r, w in zip(results, weights))

    tensors = {k: tf.Variable(p[k]) for k in WATCHED if p[k] is not None}
    rest = {k: v for k, v in p.items() if k not in tensors}
    with tf.GradientTape() as tape:
        y = loss(**tensors, **rest)
    analytic = tape.gradient(y, list(tensors.values()))
    for variable, grad in zip(tensors.values(), analytic):
        numeric = numeric_gradient(
            variable, lambda: float(loss(**tensors, **rest)))
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def graph_nodes(layer, x, mask=None, training=False):
    """(op type, device) of every node of the layer's graph on x, its
    functions' included."""
    fn = tf.function(lambda x: layer(x, mask=mask, training=training))
    graph = fn.get_concrete_function(tf.TensorSpec(x.shape)).graph
    nodes = [(op.type, op.device) for op in graph.get_operations()]
    for f in graph._functions.values():
        nodes += [(node.op, node.device) for node in f.definition.node_def]
    return nodes


def graph_op_types(layer, x, mask=None, training=False):
    return {op for op, _ in graph_nodes(layer, x, mask, training)}


def loop_twin(layer, x):
    """The same cell and weights run by Keras's step loop (over the fused
    step op, with the options)."""
    cell = LSTMCell.from_config(layer.cell.get_config())
    twin = keras.layers.RNN(cell, return_sequences=True, return_state=True,
                            go_backwards=layer.go_backwards)
    twin(x)
    twin.set_weights(layer.get_weights())
    return twin


def holed_mask(B=4, T=7):
    mask = np.ones((B, T), bool)
    mask[1, :2] = False     # left padding
    mask[2, [1, 4]] = False  # holes
    mask[3] = False          # an empty row
    return tf.constant(mask)


@needs_op
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("variant", sorted(OP_OPTIONS))
def test_layer_runs_op_options_as_keras_step_loop_does(variant, go_backwards):
    """Inference outputs, states and gradients of the fused layer against
    Keras's step loop over the same cell, with left padding, holes and an
    empty row; the graph holds the op and no While loop."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 7, 3)).astype("f")
    layer = LSTM(5, return_sequences=True, return_state=True,
                 go_backwards=go_backwards, **OP_OPTIONS[variant])
    layer(x)
    layer.set_weights([w + rng.standard_normal(w.shape).astype("f") * 0.4
                       for w in layer.get_weights()])
    twin = loop_twin(layer, x)
    mask = holed_mask()
    for run in (layer, twin):
        with tf.GradientTape() as tape:
            result = run(x, mask=mask)
            loss = sum(tf.reduce_sum(r * (k + 1.0))
                       for k, r in enumerate(result))
        run.got = ([r.numpy() for r in result]
                   + [g.numpy() for g in tape.gradient(
                       loss, run.trainable_weights)])
    for a, b in zip(layer.got, twin.got):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)
    types = graph_op_types(layer, x, mask)
    assert "TfrnnLstm" in types and "While" not in types


@needs_op
def test_projection_runs_the_op_without_a_step_loop():
    """proj_size, alone and with layer_norm, runs the fused op (left on the
    caller's device: both kernels take it) with no step loop."""
    x = np.zeros((2, 3, 4), "f")
    for kwargs in (dict(proj_size=2), dict(proj_size=2, layer_norm=True)):
        nodes = graph_nodes(LSTM(3, **kwargs), x)
        placed = [device for op, device in nodes if op == "TfrnnLstm"]
        assert placed and not any("CPU" in d for d in placed), placed
        assert "While" not in {op for op, _ in nodes}


@needs_op
def test_zoneout_training_on_the_op_keeps_each_unit_at_its_rate():
    """zoneout_h = 0.3 in training: about 30% of (row, step, unit) keep the
    previous h exactly, drawn per step; zoneout_c alone leaves h free."""
    x = np.random.default_rng(5).standard_normal((64, 30, 4)).astype("f")
    layer = LSTM(16, zoneout_h=0.3, return_sequences=True, seed=3)
    out = layer(x, training=True).numpy()
    kept = np.mean(out[:, 1:] == out[:, :-1])
    assert abs(kept - 0.3) < 0.02, kept
    assert "TfrnnLstm" in graph_op_types(layer, x, training=True)
    free = LSTM(16, zoneout_c=0.5, return_sequences=True)(x, training=True)
    assert np.mean(free.numpy()[:, 1:] == free.numpy()[:, :-1]) < 0.01


@pytest.mark.parametrize("variant", sorted(OP_OPTIONS))
def test_op_option_models_round_trip_keras_files(variant, tmp_path):
    model = keras.Sequential([keras.Input((None, 3)),
                              LSTM(4, **OP_OPTIONS[variant])])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(6).standard_normal((2, 5, 3)).astype("f")
    np.testing.assert_array_equal(model(x), loaded(x))
    assert loaded.layers[0].cell.options == model.layers[0].cell.options


@needs_op
@pytest.mark.parametrize("P", [None, 2])
@pytest.mark.parametrize("per_step", [False, True])
def test_step_op_options_match_the_reference_in_float64(per_step, P):
    """The single-step op with every option (zoneout_h a [B,H] mask or one
    value; with and without a projection): states and every gradient,
    dpeephole, the layer norm's and the projection's included."""
    p = option_problem(B=3, T=1, P=P)
    p.pop("sequence_length")
    p["zoneout_h"] = p["zoneout_h"][:, 0] if per_step else 0.4
    step = dict(p, x=p["x"][:, 0])

    def op_step(x, h0, c0, **a):
        layer_norm = layer_norm_arg(a)
        return ops.lstm_step(x, h0, c0, layer_norm=layer_norm, **a)

    def reference_step(x, h0, c0, **a):
        layer_norm = layer_norm_arg(a)
        return reference.lstm_step(
            x, h0, c0, layer_norm_weights=layer_norm,
            layer_norm_epsilon=float(np.float32(1e-3)), **dict(
                a, zoneout_h=tf.constant(a["zoneout_h"], tf.float64),
                zoneout_c=tf.constant(a["zoneout_c"], tf.float64),
                cell_clip=float(np.float32(a["cell_clip"]))))

    got = results_and_grads(op_step, step)
    want = results_and_grads(reference_step, step)
    for g, w in zip(got[0] + got[1], want[0] + want[1]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@needs_op
def test_cell_steps_the_op_options_on_the_step_op():
    """A cell with the op's options steps on TfrnnLstmStep (stock ops with
    recurrent dropout and zoneout_h, which would mix the masked h the step
    op takes), with the numbers of the stock-op step."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4)).astype("f")
    states = [rng.standard_normal((3, 5)).astype("f") for _ in range(2)]
    cell = LSTMCell(5, **OP_OPTIONS["all"])
    cell.build(x.shape)
    cell.set_weights([w + rng.standard_normal(w.shape).astype("f") * 0.5
                      for w in cell.get_weights()])
    variables = [w.value for w in cell.weights]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(variables)
        h, (_, c) = cell(x, states)
        h_stock, c_stock = lstm_options.options_step(
            cell, x, states[0], states[0], states[1], False)
        losses = [tf.reduce_sum(h + 2 * c),
                  tf.reduce_sum(h_stock + 2 * c_stock)]
    np.testing.assert_allclose(h, h_stock, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c, c_stock, rtol=1e-5, atol=1e-6)
    for a, b in zip(*[tape.gradient(loss, variables) for loss in losses]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)

    def step_ops(cell):
        fn = tf.function(lambda x, h, c: cell(x, [h, c], training=True))
        graph = fn.get_concrete_function(
            *[tf.TensorSpec(a.shape) for a in [x] + states]).graph
        return {op.type for op in graph.get_operations()}

    assert "TfrnnLstmStep" in step_ops(cell)
    dropped = LSTMCell(5, recurrent_dropout=0.3, **OP_OPTIONS["all"])
    dropped.build(x.shape)
    assert "TfrnnLstmStep" not in step_ops(dropped)
    # Without zoneout_h nothing reads the unmasked h: the op serves.
    peep = LSTMCell(5, recurrent_dropout=0.3, peephole=True, zoneout_c=0.2)
    peep.build(x.shape)
    assert "TfrnnLstmStep" in step_ops(peep)
