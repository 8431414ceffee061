"""SavedModel export for TF Serving: stock ops only, served without tfrnn,
same answers as the Keras models in process, atomic versions, warmup."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrnn
from tfrnn.data import Vocabulary
from tfrnn.export import (check_stock_ops, export_for_serving, non_stock_ops,
                          saved_model_ops, versions)
from tfrnn.export import graph_ops
from tfrnn.export import serving as serving_module
from tfrnn.export.signatures import left_padded
from tfrnn.zoo import (CharLSTM, ConditionedGenerator, Seq2Seq,
                       SequenceClassifier)

TEXT = "to be, or not to be, that is the question. " * 10


def char_model():
    keras.utils.set_random_seed(0)
    model = CharLSTM(CharLSTM.tokens_of(TEXT), units=16, embedding_dim=8)
    model(tf.zeros([1, 2], tf.int32))
    return model


def seq2seq_model(attention):
    keras.utils.set_random_seed(0)
    model = Seq2Seq(list("abcde"), list("abcde"), units=12, embedding_dim=6,
                    attention=attention, max_decode_length=7)
    model((tf.zeros([1, 2], tf.int32), tf.zeros([1, 2], tf.int32)))
    return model


# A fresh interpreter that never imports tfrnn: it loads the export with
# tf.saved_model.load and with the TF1 session loader TF Serving uses, runs
# the signatures given as JSON in both and prints the outputs as JSON.
SERVER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.framework import op_def_registry
    path, calls = sys.argv[1], json.loads(sys.argv[2])
    loaded = tf.saved_model.load(path)
    out = {"tfrnn_imported": "tfrnn" in sys.modules, "results": []}

    def listed(value):
        value = np.asarray(value)
        if value.dtype.kind in "OS":
            return np.char.decode(value.astype(bytes)).tolist()
        return value.tolist()

    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    with graph.as_default():
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], path)
    for name, inputs in calls:
        fn = loaded.signatures[name]
        specs = fn.structured_input_signature[1]
        args = {k: tf.constant(v, specs[k].dtype) for k, v in inputs.items()}
        result = {k: listed(v.numpy()) for k, v in fn(**args).items()}
        sig = meta.signature_def[name]
        feeds = {sig.inputs[k].name: v.numpy() for k, v in args.items()}
        names = sorted(sig.outputs)
        fetched = session.run([sig.outputs[k].name for k in names], feeds)
        out["session_agrees"] = out.get("session_agrees", True) and all(
            listed(v) == result[k] for k, v in zip(names, fetched))
        out["results"].append(result)
    from tensorflow.core.protobuf import saved_model_pb2
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(open(path + "/saved_model.pb", "rb").read())
    ops = {n.op for g in proto.meta_graphs for n in g.graph_def.node}
    ops |= {n.op for g in proto.meta_graphs
            for f in g.graph_def.library.function for n in f.node_def}
    out["unregistered"] = sorted(o for o in ops
                                 if op_def_registry.get(o) is None)
    print("RESULT" + json.dumps(out))
""")


def serve(path, calls):
    """Runs signature calls on the export in a process without tfrnn."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", SERVER, path,
                           json.dumps(calls)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT")]
    out = json.loads(line[-1][len("RESULT"):])
    assert not out["tfrnn_imported"]
    assert out["session_agrees"]  # TF1 session loading == TF2 loading
    assert out["unregistered"] == []  # every op is stock TensorFlow
    return out["results"]


def test_char_lstm_export_serves_without_tfrnn(tmp_path):
    model = char_model()
    path = export_for_serving(model, str(tmp_path), "char")
    assert path == str(tmp_path / "char" / "1")
    assert non_stock_ops(saved_model_ops(path)) == []
    prompts = ["to be", "or", "t"]
    generate, score = serve(path, [
        ("generate", {"prompt": prompts, "max_length": 25,
                      "temperature": 0.9, "seed": 7}),
        ("score", {"text": ["to be, or not", "t", ""]})])
    # Exactly what the Keras model generates with the same seed.
    ids = left_padded(model.vocabulary.encode(prompts))
    expected = model.generate_ids(ids, tf.constant(25), temperature=0.9,
                                  seed=tf.constant(7))
    expected = [p + model.decode(row) for p, row in
                zip(prompts, expected.numpy())]
    assert generate["text"] == expected
    assert expected[0] == model.generate("to be", 25, temperature=0.9, seed=7)
    ids = model.encode("to be, or not")
    total, count = model.log_likelihood(tf.constant(ids[None]),
                                        tf.constant([len(ids)]))
    np.testing.assert_allclose(score["log_likelihood"][0], total[0],
                               rtol=1e-5)
    assert score["chars_scored"] == [len(ids) - 1, 0, 0]
    assert score["nats_per_char"][1:] == [0.0, 0.0]


@pytest.mark.parametrize("signature, inputs, message", [
    ("generate", {"prompt": ["to", ""], "max_length": 3,
                  "temperature": 1.0, "seed": 0}, "at least one character"),
    ("generate", {"prompt": ["to"], "max_length": 3, "temperature": 0.0,
                  "seed": 0}, "temperature must be > 0"),
    ("generate", {"prompt": ["to"], "max_length": -1, "temperature": 1.0,
                  "seed": 0}, "max_length must be in"),
    ("generate", {"prompt": ["to"], "max_length": 3, "temperature": 1.0,
                  "seed": 2 ** 40}, "seed must be an int32"),
])
def test_exported_checks_raise_invalid_argument(tmp_path, signature, inputs,
                                                message):
    path = export_for_serving(char_model(), str(tmp_path), "char")
    fn = tf.saved_model.load(path).signatures[signature]
    specs = fn.structured_input_signature[1]
    args = {k: tf.constant(v, specs[k].dtype) for k, v in inputs.items()}
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        fn(**args)


def test_exported_generation_maps_unknown_characters_to_unk(tmp_path):
    path = export_for_serving(char_model(), str(tmp_path), "char")
    fn = tf.saved_model.load(path).signatures["generate"]
    out = fn(prompt=tf.constant(["to \u00e9~"]), max_length=tf.constant(5),
             temperature=tf.constant(1.0), seed=tf.constant(0, tf.int64))
    assert out["text"].numpy()[0].decode().startswith("to \u00e9~")


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_seq2seq_export_translates_as_in_process(tmp_path, attention):
    model = seq2seq_model(attention)
    path = export_for_serving(model, str(tmp_path), "s2s")
    texts = ["abc", "edcba", "a", ""]
    (greedy,), (beam,) = (serve(path, [("translate", {"text": texts,
                                                       "beam_width": w})])
                          for w in (1, 3))
    assert greedy["translation"] == model.translate(texts, beam_width=1)
    assert beam["translation"] == model.translate(texts, beam_width=3)


def test_classifier_exports_take_text_or_sequences(tmp_path):
    keras.utils.set_random_seed(0)
    vocab = Vocabulary.from_texts(["good bad film"])
    text_model = SequenceClassifier(3, tokens=vocab.get_config()["tokens"],
                                    units=8, bidirectional=True)
    feature_model = SequenceClassifier(4, units=8, pooling="max")
    texts = ["good film", "bad", "an unseen film"]
    text_model(tf.zeros([1, 2], tf.int32))
    features = np.random.default_rng(0).random((2, 5, 3)).astype(np.float32)
    feature_model(features)
    (by_text,) = serve(export_for_serving(text_model, str(tmp_path), "t"),
                       [("classify", {"text": texts})])
    (by_features,) = serve(
        export_for_serving(feature_model, str(tmp_path), "f"),
        [("classify", {"sequence": features.tolist()})])
    np.testing.assert_allclose(by_text["probabilities"],
                               text_model.classify_texts(texts), atol=1e-6)
    np.testing.assert_allclose(by_features["probabilities"],
                               tf.nn.softmax(feature_model(features)),
                               atol=1e-6)
    assert by_features["label"] == list(
        np.argmax(feature_model(features), -1))


def test_generator_export_decodes_as_in_process(tmp_path):
    keras.utils.set_random_seed(0)
    model = ConditionedGenerator(list("xyz"), units=8, max_decode_length=6)
    features = np.eye(3, dtype=np.float32)
    model((features, tf.zeros([3, 2], tf.int32)))
    (out,) = serve(export_for_serving(model, str(tmp_path), "gen"),
                   [("generate", {"features": features.tolist(),
                                  "beam_width": 2})])
    assert out["text"] == model.to_strings(model.beam_search(features, 2))


def saved_model_cli(path, signature, input_exprs):
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.exists(cli):
        pytest.skip("saved_model_cli is not installed beside this python")
    done = subprocess.run(
        [cli, "run", "--dir", path, "--tag_set", "serve", "--signature_def",
         signature, "--input_exprs", input_exprs],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_saved_model_cli_runs_every_signature(tmp_path):
    """TF's own command line (the session loader TF Serving uses) runs each
    signature of each kind of export and prints what Keras computes."""
    char = char_model()
    path = export_for_serving(char, str(tmp_path), "char")
    out = saved_model_cli(path, "generate", "prompt=[b'to be'];max_length=12;"
                          "temperature=0.7;seed=3")
    assert char.generate("to be", 12, temperature=0.7, seed=3) in out
    assert "nats_per_char" in saved_model_cli(path, "score",
                                              "text=[b'to be', b'or']")
    s2s = seq2seq_model("bahdanau")
    path = export_for_serving(s2s, str(tmp_path), "s2s")
    out = saved_model_cli(path, "translate", "text=[b'abc'];beam_width=2")
    assert s2s.translate(["abc"], beam_width=2)[0] in out
    keras.utils.set_random_seed(0)
    clf = SequenceClassifier(3, vocab_size=9, units=4)
    clf(tf.zeros([1, 2], tf.int32))
    path = export_for_serving(clf, str(tmp_path), "clf")
    assert "probabilities" in saved_model_cli(path, "classify",
                                              "sequence=[[1, 2, 3]]")
    gen = ConditionedGenerator(list("xy"), units=4, max_decode_length=3)
    gen((tf.zeros([1, 2]), tf.zeros([1, 2], tf.int32)))
    path = export_for_serving(gen, str(tmp_path), "gen")
    assert "text" in saved_model_cli(path, "serving_default",
                                     "features=[[1.0, 0.0]];beam_width=1")


def test_versions_are_numbered_and_never_overwritten(tmp_path):
    model = char_model()
    base = str(tmp_path)
    export_for_serving(model, base, "char", warmup=False)
    export_for_serving(model, base, "char", warmup=False)
    export_for_serving(model, base, "char", version=7, warmup=False)
    assert versions(os.path.join(base, "char")) == [1, 2, 7]
    with pytest.raises(FileExistsError):
        export_for_serving(model, base, "char", version=2)
    with pytest.raises(ValueError, match="positive"):
        export_for_serving(model, base, "char", version=0)
    with pytest.raises(ValueError, match="name"):
        export_for_serving(model, base, "../escape")
    config = open(os.path.join(base, "models.config")).read()
    assert 'name: "char"' in config and 'base_path: "/models/char"' in config


def test_interrupted_export_leaves_no_version(tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(serving_module, "write_warmup", crash)
    with pytest.raises(KeyboardInterrupt):
        export_for_serving(char_model(), str(tmp_path), "char")
    assert os.listdir(tmp_path / "char") == []


def test_warmup_requests_parse_as_prediction_logs(tmp_path):
    path = export_for_serving(char_model(), str(tmp_path), "char")
    records = list(tf.data.TFRecordDataset(
        os.path.join(path, "assets.extra", "tf_serving_warmup_requests")))
    assert len(records) == 3  # generate, generate_until_end, score
    apis = pytest.importorskip("tensorflow_serving.apis.prediction_log_pb2")
    loaded = tf.saved_model.load(path)
    for record in records:
        log = apis.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        assert request.model_spec.name == "char"
        fn = loaded.signatures[request.model_spec.signature_name]
        fn(**{k: tf.make_ndarray(v) for k, v in request.inputs.items()})


# A fresh interpreter without tfrnn: loads an export of a plain Keras model,
# feeds x to its serving_default signature (its one input, whatever Keras
# named it) and prints the output, whether tfrnn was imported, and the ops
# this TensorFlow lacks.
PLAIN_SERVER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.framework import op_def_registry
    from tfrnn_free_check import saved_model_ops
    path, x = sys.argv[1], np.array(json.loads(sys.argv[2]), np.float32)
    fn = tf.saved_model.load(path).signatures["serving_default"]
    (key, spec), = fn.structured_input_signature[1].items()
    (output,) = fn(**{key: tf.constant(x, spec.dtype)}).values()
    print("RESULT" + json.dumps({
        "output": output.numpy().tolist(),
        "tfrnn_imported": "tfrnn" in sys.modules,
        "unregistered": sorted(o for o in saved_model_ops(path)
                               if op_def_registry.get(o) is None)}))
""")
def serve_plain(path, x, tmp_path):
    # tfrnn/export/graph_ops.py needs only TensorFlow: the server imports
    # a copy of that file, not tfrnn.
    shutil.copy(graph_ops.__file__, tmp_path / "tfrnn_free_check.py")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", PLAIN_SERVER, str(path),
         json.dumps(x.tolist())], capture_output=True, text=True,
        timeout=300, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT")]
    return json.loads(line[-1][len("RESULT"):])


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.stack = tfrnn.layers.StackedRNN(5, cell="gru", num_layers=2,
                                             bidirectional=True)
        self.rnn = tfrnn.layers.SimpleRNN(4, activation="relu")
        self.head = keras.layers.Dense(2)

    def call(self, x):
        return self.head(self.rnn(self.stack(x)))


def plain_model(kind):
    """A Sequential, functional or subclassed model of tfrnn layers, built
    on [B, 6, 3] float inputs."""
    keras.utils.set_random_seed(0)
    if kind == "sequential":
        model = keras.Sequential([
            keras.Input((None, 3)),
            tfrnn.layers.LSTM(6, return_sequences=True),
            tfrnn.layers.GRU(5), keras.layers.Dense(2)])
    elif kind == "functional":
        inputs = keras.Input((None, 3))
        h = tfrnn.layers.StackedRNN(4, cell="lstm", num_layers=2,
                                    bidirectional=True)(inputs)
        h = tfrnn.layers.GRU(5, return_sequences=True)(h)
        model = keras.Model(inputs, tfrnn.layers.LSTM(3)(h))
    else:
        model = Subclassed()
    model(np.zeros((1, 6, 3), "float32"))
    return model


def save_three_ways(model, how, path):
    if how == "model.export":
        model.export(path, verbose=False)
    elif how == "tf.saved_model.save":
        # A tf.function it traces itself (in its save context).
        spec = tf.TensorSpec([None, None, 3], tf.float32)
        tf.saved_model.save(model, path, signatures=tf.function(
            model.call, input_signature=[spec]))
    else:
        path = export_for_serving(model, os.path.dirname(path), "plain")
    return path


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclassed"])
@pytest.mark.parametrize("how", ["model.export", "tf.saved_model.save",
                                 "export_for_serving"])
def test_any_model_exports_servably_three_ways(kind, how, tmp_path):
    """Keras's own export, tf.saved_model.save and export_for_serving of a
    model of tfrnn layers (traced there, never called in a tf.function
    before) hold stock ops only and serve the Keras model's numbers in a
    process that never imports tfrnn."""
    model = plain_model(kind)
    path = save_three_ways(model, how, str(tmp_path / "export" / "1"))
    assert not non_stock_ops(saved_model_ops(path))
    x = np.random.default_rng(1).standard_normal((3, 6, 3)).astype("f")
    served = serve_plain(path, x, tmp_path)
    assert not served["tfrnn_imported"] and not served["unregistered"]
    np.testing.assert_allclose(served["output"], model(x), rtol=1e-5,
                               atol=1e-5)


def test_a_model_with_holes_in_its_mask_exports_servably(tmp_path):
    """Masks that are not right-padded run packed on the fused op; the
    export's stock ops compute the same numbers from the same mask."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, 3))
    h = keras.layers.Masking(0.0)(inputs)
    h = tfrnn.layers.LSTM(6, return_sequences=True, go_backwards=True)(h)
    h = tfrnn.layers.SimpleRNN(5, return_sequences=True)(h)
    model = keras.Model(inputs, tfrnn.layers.GRU(4)(h))
    x = np.random.default_rng(1).standard_normal((3, 6, 3)).astype("f")
    x[0, [0, 2]] = x[1, :3] = x[2, 5] = 0  # holes, left padding, the end
    assert_exports_servably(model, x, tmp_path)


def assert_exports_servably(model, x, tmp_path):
    """The model's export holds stock ops only and serves its numbers."""
    path = save_three_ways(model, "model.export",
                           str(tmp_path / "export" / "1"))
    assert not non_stock_ops(saved_model_ops(path))
    served = serve_plain(path, x, tmp_path)
    np.testing.assert_allclose(served["output"], model(x), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("options", [
    dict(peephole=True, cell_clip=0.5, zoneout_h=0.2, zoneout_c=0.3),
    dict(layer_norm=True, peephole=True, zoneout_h=0.1),
    dict(layer_norm=True, proj_size=3, zoneout_c=0.1)])
def test_lstm_option_models_export_servably(options, tmp_path):
    """The options the op runs (peephole, clip, zoneout: the inference
    expectation; layer norm) and those Keras's loop runs (projection)
    export to stock ops that serve the in-process numbers, masks too."""
    keras.utils.set_random_seed(2)
    inputs = keras.Input((None, 3))
    h = keras.layers.Masking(0.0)(inputs)
    layer = tfrnn.layers.LSTM(6, return_sequences=True, **options)
    model = keras.Model(inputs, tfrnn.layers.GRU(4)(layer(h)))
    layer.set_weights([w + np.float32(0.3) for w in layer.get_weights()])
    x = np.random.default_rng(2).standard_normal((3, 6, 3)).astype("f")
    x[0, [0, 2]] = x[2, 5] = 0  # holes and a right-padded row
    assert_exports_servably(model, x, tmp_path)


def test_a_function_traced_before_saving_is_refused_by_the_check(tmp_path):
    """A tf.function traced outside any export keeps the fused op (it is the
    fast path); export_for_serving's scan names it."""
    model = plain_model("sequential")
    fn = tf.function(model.call)
    concrete = fn.get_concrete_function(tf.TensorSpec([None, 6, 3]))
    ops = {op.type for op in concrete.graph.get_operations()}
    assert {"TfrnnLstm", "TfrnnGru"} <= ops
    path = str(tmp_path / "m")
    tf.saved_model.save(model, path, signatures=concrete)
    with pytest.raises(RuntimeError, match="TfrnnGru"):
        check_stock_ops(path)


def test_xla_compiled_layers_run_the_stock_path():
    """tf.function(jit_compile=True) around the layers: the stock-op path,
    the fused op's numbers (it used to fail inside XLA)."""
    model = plain_model("functional")
    x = np.random.default_rng(2).standard_normal((2, 6, 3)).astype("f")
    compiled = tf.function(model, jit_compile=True)
    np.testing.assert_allclose(compiled(x), model(x), rtol=1e-5, atol=1e-5)
    ops = {op.type for op in tf.function(model, jit_compile=True)
           .get_concrete_function(tf.TensorSpec([2, 6, 3]))
           .graph.get_operations()}
    assert not any(op.startswith("Tfrnn") for op in ops)


def modes_under(root):
    """{path relative to root: permission bits} of root and all below."""
    found = {".": os.stat(root).st_mode & 0o777}
    for where, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(where, name)
            found[os.path.relpath(path, root)] = os.stat(path).st_mode & 0o777
    return found


def test_exports_are_readable_by_other_users(tmp_path):
    """A TF Serving process running as another user reads the versions and
    models.config: 0755 directories, 0644 files under umask 022 (mkdtemp
    and mkstemp stage them 0700 and 0600)."""
    old = os.umask(0o022)
    try:
        path = export_for_serving(char_model(), str(tmp_path), "char")
    finally:
        os.umask(old)
    modes = modes_under(path)
    assert {m for p, m in modes.items() if os.path.isdir(
        os.path.join(path, p))} == {0o755}
    assert {m for p, m in modes.items() if not os.path.isdir(
        os.path.join(path, p))} == {0o644}
    assert os.stat(tmp_path / "models.config").st_mode & 0o777 == 0o644


class Doubler(keras.Model):
    """A model outside the zoo that declares its own serving signature."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rnn = tfrnn.layers.GRU(3, return_sequences=True)

    def call(self, x):
        return 2.0 * self.rnn(x)

    def serving_signatures(self, scale=1.0):
        from tfrnn.export.signatures import signature_holder

        @tf.function(input_signature=[tf.TensorSpec([None, None, 2])])
        def double(x):
            return {"y": scale * self(x)}

        return signature_holder(self), {"double": double}, [
            ("double", {"x": [[[0.0, 1.0]]]})]


def test_any_model_can_declare_its_signatures(tmp_path):
    """export_for_serving saves what serving_signatures returns (options
    passed through), with stock ops only and the warmup request."""
    model = Doubler()
    x = np.random.default_rng(0).standard_normal((2, 4, 2)).astype("f")
    expected = model(x).numpy()
    path = export_for_serving(model, str(tmp_path), "doubler", scale=0.5)
    assert not non_stock_ops(saved_model_ops(path))
    assert os.path.exists(os.path.join(
        path, "assets.extra", "tf_serving_warmup_requests"))
    served = tf.saved_model.load(path).signatures["double"]
    np.testing.assert_allclose(served(x=tf.constant(x))["y"], 0.5 * expected,
                               rtol=1e-5, atol=1e-6)


def test_the_export_imports_no_model():
    """tfrnn.export saves what a model declares; it imports no zoo model
    (the zoo imports it)."""
    import ast
    folder = os.path.dirname(tfrnn.export.__file__)
    for name in os.listdir(folder):
        if name.endswith(".py"):
            with open(os.path.join(folder, name)) as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    assert not (node.module or "").startswith("tfrnn.zoo"), \
                        (name, node.module)
