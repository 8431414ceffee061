"""A property-based sweep of the public API with bad and good inputs.

Every drawn case must end one of two ways, and the sweep fails on any
other:
* refused before any work by ValueError, TypeError or
  InvalidArgumentError whose message names the argument (`refused`);
* accepted, with the right result: for the layers, what keras.layers'
  own layer with the same weights returns (the drop-in promise); for the
  zoo and tfrnn.data, the result's documented shape and contents.
Cases that could allocate without bound (huge lengths, beams, CLI
requests) run in a subprocess with a time limit, where an abort or a
signal fails (test_bounded_requests_in_a_subprocess). Each property runs
SWEEP_EXAMPLES drawn cases (env TFRNN_SWEEP_EXAMPLES, default 25), which
keeps the whole sweep to about a minute.
"""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfrnn
from tfrnn import data
from tfrnn.layers import StackedRNN
from tfrnn.zoo import ConditionedGenerator, SequenceClassifier
from tfrnn.zoo.arguments import MAX_BEAM_WIDTH, MAX_LENGTH

SWEEP_EXAMPLES = int(os.environ.get("TFRNN_SWEEP_EXAMPLES", "25"))
SWEEP = settings(max_examples=SWEEP_EXAMPLES, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow,
                                        HealthCheck.function_scoped_fixture])
CLEAR_ERRORS = (ValueError, TypeError, tf.errors.InvalidArgumentError)
LAYERS = {"lstm": (tfrnn.layers.LSTM, keras.layers.LSTM),
          "gru": (tfrnn.layers.GRU, keras.layers.GRU),
          "rnn": (tfrnn.layers.SimpleRNN, keras.layers.SimpleRNN)}


def outcome(fn):
    """("ok", result) or ("error", the exception)."""
    try:
        return "ok", fn()
    except Exception as err:  # noqa: BLE001 - the sweep classifies it
        return "error", err


def refused(err, *names):
    """The error is a clear one: a ValueError, TypeError or
    InvalidArgumentError naming one of `names`."""
    assert isinstance(err, CLEAR_ERRORS), f"{type(err).__name__}: {err}"
    text = str(err).lower()
    assert any(n.lower() in text for n in names), (
        f"the error names none of {names}: {err}")


# -- the layers' calls, against Keras's own layers -------------------------

MASKS = ("none", "right", "holes", "int", "float", "rank3", "short", "long",
         "rank1", "batch", "string")
BAD_MASKS = ("short", "long", "rank1", "batch", "string")
DTYPES = ("float32", "float64", "int32", "bool", "complex64", "string")
STATES = ("none", "ok", "extra", "missing", "width", "batch")


def call_inputs(B, T, dtype, mask, state, state_count, rng):
    x = rng.standard_normal((B, T, 2))
    x = {"float32": x.astype("float32"), "float64": x,
         "int32": (x * 3).astype("int32"), "bool": x > 0,
         "complex64": tf.complex(x.astype("float32"), x.astype("float32")),
         "string": tf.fill([B, T, 2], "a")}[dtype]
    keep = rng.random((B, T)) > 0.3
    right = np.arange(T)[None] < rng.integers(0, T + 1, (B, 1))
    m = {"none": None, "right": right, "holes": keep,
         "int": keep.astype("int32"), "float": keep.astype("float32"),
         "rank3": keep[:, :, None], "short": keep[:, :-1],
         "long": np.ones((B, T + 1), bool), "rank1": keep[:, 0],
         "batch": np.ones((B + 1, T), bool),
         "string": tf.fill([B, T], "x")}[mask]
    zeros = lambda rows, width: np.zeros((rows, width), "float32")  # noqa
    s = {"none": None, "ok": [zeros(B, 3)] * state_count,
         "extra": [zeros(B, 3)] * (state_count + 1),
         "missing": [zeros(B, 3)] * (state_count - 1) or None,
         "width": [zeros(B, 4)] * state_count,
         "batch": [zeros(B + 1, 3)] * state_count}[state]
    return x, m, s


def spec(value):
    """A TensorSpec of value's rank and dtype with every size unknown."""
    value = tf.convert_to_tensor(value)
    return tf.TensorSpec([None] * value.shape.rank, value.dtype)


def call_layer(layer, x, mask, state, traced):
    """layer(x, mask=..., initial_state=...), eagerly or traced with every
    size unknown (the checks that only the running graph can make)."""
    if not traced:
        return layer(x, mask=mask, initial_state=state)
    args = [x] + ([] if mask is None else [mask]) + list(state or [])
    with_mask = mask is not None

    def run(x, *rest):
        m = rest[0] if with_mask else None
        s = list(rest[1:] if with_mask else rest) or None
        return layer(x, mask=m, initial_state=s)

    return tf.function(run, input_signature=[spec(a) for a in args])(*args)


@SWEEP
@given(kind=st.sampled_from(sorted(LAYERS)), B=st.integers(1, 3),
       T=st.integers(1, 4), dtype=st.sampled_from(DTYPES),
       mask=st.sampled_from(MASKS), state=st.sampled_from(STATES),
       return_sequences=st.booleans(), go_backwards=st.booleans(),
       traced=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_layer_calls_match_keras_or_are_refused(kind, B, T, dtype, mask,
                                                state, return_sequences,
                                                go_backwards, traced, seed):
    ours_cls, keras_cls = LAYERS[kind]
    options = dict(units=3, return_sequences=return_sequences,
                   go_backwards=go_backwards)
    ours, theirs = ours_cls(**options), keras_cls(**options)
    ours.build((B, T, 2))
    theirs.build((B, T, 2))
    theirs.set_weights(ours.get_weights())
    count = 2 if kind == "lstm" else 1
    x, m, s = call_inputs(B, T, dtype, mask, state, count,
                          np.random.default_rng(seed))
    got = outcome(lambda: call_layer(ours, x, m, s, traced))
    want = outcome(lambda: call_layer(theirs, x, m, s, False))
    bad = dtype in ("complex64", "string") or mask in BAD_MASKS or \
        state in ("extra", "width", "batch") or \
        (state == "missing" and count == 2)
    if got[0] == "error":
        assert bad, f"tfrnn refused a good call: {got[1]}"
        refused(got[1], "inputs", "mask", "initial state", "h0", "c0")
        return
    assert not bad, f"tfrnn accepted a bad call ({dtype}, {mask}, {state})"
    assert want[0] == "ok", f"Keras refused what tfrnn took: {want[1]}"
    np.testing.assert_allclose(np.asarray(got[1]), np.asarray(want[1]),
                               rtol=1e-5, atol=1e-5)


POOLS = {"units": [1, 3, 0, -1, 2.5, "3", None],
         "dropout": [0.0, 0.5, -0.1, 1.0, 1.5, "x"],
         "recurrent_dropout": [0.0, 0.3, 1.0, -1.0],
         "activation": ["tanh", "relu", "sigmoid", "nope"],
         "use_bias": [True, False]}


@SWEEP
@given(kind=st.sampled_from(sorted(LAYERS)),
       arguments=st.fixed_dictionaries(
           {}, optional={k: st.sampled_from(v) for k, v in POOLS.items()}))
def test_layer_arguments_as_keras_takes_them(kind, arguments):
    """What Keras's layer takes, tfrnn's takes, with the same result in
    inference (Keras clamps a dropout outside [0, 1], and so does tfrnn,
    its cells being Keras's); what Keras refuses, tfrnn refuses."""
    arguments.setdefault("units", 3)
    ours_cls, keras_cls = LAYERS[kind]
    x = np.random.default_rng(0).standard_normal((2, 3, 2)).astype("float32")

    def run(cls):
        layer = cls(**arguments)
        layer.build((2, 3, 2))
        return layer

    got, want = outcome(lambda: run(ours_cls)), outcome(lambda: run(keras_cls))
    assert got[0] == want[0], (got, want)
    if got[0] == "error":
        return
    want[1].set_weights(got[1].get_weights())
    np.testing.assert_allclose(got[1](x, training=False),
                               want[1](x, training=False), rtol=1e-5,
                               atol=1e-6)


# -- StackedRNN and tfrnn.interop ------------------------------------------

KWARGS = {"nonlinearity": ["tanh", "relu"], "activation": ["tanh", "relu"],
          "use_bias": [True, False], "proj_size": [0, 2],
          "return_sequences": [False], "time_major": [True],
          "recurrent_dropout": [0.0]}


@SWEEP
@given(cell=st.sampled_from(["lstm", "gru", "rnn"]),
       nonlinearity=st.sampled_from(["tanh", "relu"]), bias=st.booleans(),
       layer_kwargs=st.fixed_dictionaries(
           {}, optional={k: st.sampled_from(v) for k, v in KWARGS.items()}))
def test_stacked_layer_kwargs_agree_with_named_arguments(
        cell, nonlinearity, bias, layer_kwargs):
    """layer_kwargs never silently lose to (or override) StackedRNN's own
    arguments: the layers built are what the stack's config says."""
    got = outcome(lambda: StackedRNN(4, cell=cell, num_layers=2,
                                     nonlinearity=nonlinearity, bias=bias,
                                     layer_kwargs=layer_kwargs))
    if got[0] == "error":
        refused(got[1], *layer_kwargs, "nonlinearity", "bias", "proj_size")
        return
    stack = got[1]
    stack(np.zeros((2, 3, 5), "float32"))
    config = stack.get_config()
    for layer in stack.recurrent_layers:
        assert layer.cell.use_bias == config["bias"]
        if cell == "rnn":
            assert layer.cell.activation.__name__ == config["nonlinearity"]
        if cell == "lstm":
            assert (layer.cell.proj_size or 0) == config["proj_size"]
    keys = stack.torch_state_dict()
    assert ("bias_ih_l0" in keys) == config["bias"]
    rebuilt = StackedRNN.from_config(config)
    rebuilt(np.zeros((2, 3, 5), "float32"))
    rebuilt.load_torch_state_dict(keys)


MUTATIONS = ("drop", "extra_layer", "extra_key", "transpose", "rows",
             "columns", "strings", "one_bias", "prefix")


@SWEEP
@given(mode=st.sampled_from(["lstm", "gru", "rnn"]),
       mutation=st.sampled_from(MUTATIONS), pick=st.integers(0, 100))
def test_state_dicts_load_exactly_or_are_refused(mode, mutation, pick):
    stack = StackedRNN(3, cell=mode, num_layers=2, bidirectional=True)
    stack(np.zeros((1, 2, 4), "float32"))
    state = stack.torch_state_dict()
    key = sorted(state)[pick % len(state)]
    bad = dict(state)
    if mutation == "drop":
        bad.pop(key)
    elif mutation == "extra_layer":
        bad[key.replace("_l1", "_l2").replace("_l0", "_l2")] = state[key]
    elif mutation == "extra_key":
        bad["weight_xx_l0"] = state[key]
    elif mutation == "transpose" and state[key].ndim == 2:
        bad[key] = state[key].T
    elif mutation == "rows":
        bad[key] = state[key][:-1]
    elif mutation == "columns" and state[key].ndim == 2:
        bad[key] = state[key][:, :-1]
    elif mutation == "strings":
        bad[key] = np.full(state[key].shape, "x")
    elif mutation == "one_bias":
        bad = {k: v for k, v in state.items() if not k.startswith("bias_hh")}
    elif mutation == "prefix":  # torch's module prefix: accepted
        bad = {f"rnn.{k}": v for k, v in state.items()}
    target = StackedRNN(3, cell=mode, num_layers=2, bidirectional=True)
    target(np.zeros((1, 2, 4), "float32"))
    plain = {k.split(".")[-1]: v for k, v in bad.items()}
    # Same names, shapes and number dtypes (a square matrix transposed,
    # say): other weights of this stack, to load exactly.
    valid = plain.keys() == state.keys() and all(
        np.shape(v) == state[k].shape and np.asarray(v).dtype.kind == "f"
        for k, v in plain.items())
    got = outcome(lambda: target.load_torch_state_dict(bad))
    if valid:
        assert got[0] == "ok", got[1]
        loaded = target.torch_state_dict()
        for k, v in plain.items():
            if k.startswith("bias"):  # torch's two biases load as one sum
                continue
            np.testing.assert_array_equal(loaded[k], v)
    else:
        assert got[0] == "error", f"{mutation} of {key} was accepted"
        refused(got[1], "layer", "weight", "bias", "state dict", "mode")


@SWEEP
@given(rows=st.sampled_from([4, 2, 8]), rank=st.sampled_from([3, 2]),
       batch=st.sampled_from([2, 3]), width=st.sampled_from([3, 4]),
       lengths=st.sampled_from([[3, 1], [4, 1], [-1, 1], [1.5, 1], [1, 1, 1],
                                None]))
def test_stacked_states_and_lengths_are_checked(rows, rank, batch, width,
                                                lengths):
    """initial_state [num_layers * num_directions, B, H] and
    sequence_length [B] in [0, T], or a clear error; never a silent
    truncation of a length past T."""
    stack = StackedRNN(3, cell="gru", num_layers=2, bidirectional=True,
                       return_state=True, state_layout="torch")
    x = np.ones((2, 3, 5), "float32")
    h0 = np.zeros((rows, batch, width) if rank == 3 else (batch, width),
                  "float32")
    got = outcome(lambda: stack(x, initial_state=h0,
                                sequence_length=lengths))
    good = (rows, rank, batch, width) == (4, 3, 2, 3) and lengths in (
        [3, 1], None)
    if good:
        assert got[0] == "ok", got[1]
    else:
        assert got[0] == "error", (rows, rank, batch, width, lengths)
        refused(got[1], "initial_state", "h0", "sequence_length")


# -- the zoo's public methods ----------------------------------------------

ANY = st.sampled_from
GENERATE = dict(
    prime=ANY(["ab", "h", "", "aZ", b"ab", None, ["ab"]]),
    length=ANY([0, 1, 7, -1, 2.5, "3", None]),
    greedy=st.booleans(),
    temperature=ANY([1.0, 0.5, 0, -1.0, float("nan"), float("inf"), "hot"]),
    top_k=ANY([None, 1, 5, 0, 14, 2.5]),
    seed=ANY([0, -1, 7, 2 ** 40, "x"]))


@SWEEP
@given(**GENERATE)
def test_char_lstm_generate(small_char_lstm, prime, length, greedy, temperature,
                            top_k, seed):
    got = outcome(lambda: small_char_lstm.generate(
        prime, length, greedy=greedy, temperature=temperature, top_k=top_k,
        seed=seed))
    if got[0] == "error":
        refused(got[1], "prime", "priming", "length", "temperature", "top_k",
                "seed", "vocabulary")
        return
    text = got[1]
    assert isinstance(prime, str) and set(prime) <= set("abcdefgh ")
    assert isinstance(length, int) and length >= 0
    assert text.startswith(prime) and len(text) == len(prime) + length
    assert set(text) <= set("abcdefgh ")
    if not greedy:
        assert 0 < float(temperature) < float("inf")
        assert top_k is None or (isinstance(top_k, int) and 1 <= top_k <= 13)


@SWEEP
@given(texts=ANY([["12"], [], [""], ["1x"], "12", [b"12"], ["1 2", "345"]]),
       beam_width=ANY([1, 2, 0, -1, 2.5, MAX_BEAM_WIDTH + 1]),
       max_length=ANY([None, 1, 3, 0, -2, MAX_LENGTH + 1, 1.5]))
def test_seq2seq_translate(small_seq2seq, texts, beam_width, max_length):
    got = outcome(lambda: small_seq2seq.translate(texts, beam_width,
                                                  max_length))
    if got[0] == "error":
        refused(got[1], "texts", "beam_width", "max_length", "vocabulary")
        return
    assert isinstance(texts, list) and all(isinstance(t, str) for t in texts)
    assert len(got[1]) == len(texts)
    assert all(isinstance(t, str) and len(t) <= (max_length or 6)
               for t in got[1])


@SWEEP
@given(ids=ANY([[[5, 6, 7]], [[5, 0, 0], [6, 7, 8]], [[500, 1]], [[-3, 4]],
                [[1.5, 2.0]], np.zeros((0, 3), "int32"),
                np.zeros((2, 0), "int32")]),
       method=ANY(["greedy", "beam", "sample"]),
       option=ANY([None, 0, 2, -1, 2.5]))
def test_seq2seq_decoding(small_seq2seq, ids, method, option):
    s2s = small_seq2seq
    run = {"greedy": lambda: s2s.greedy_decode(ids, max_length=option),
           "beam": lambda: s2s.beam_search(ids, option or 1),
           "sample": lambda: s2s.sample(ids, top_k=option)}[method]
    got = outcome(run)
    if got[0] == "error":
        refused(got[1], "source ids", "max_length", "beam_width", "top_k")
        return
    rows = np.asarray(ids)
    assert rows.dtype.kind == "i" and (rows.size == 0 or (
        rows.min() >= 0 and rows.max() < s2s.source_vocabulary.size))
    out = np.asarray(got[1])
    assert out.shape[0] == rows.shape[0] and out.ndim == 2
    assert out.size == 0 or (out.min() >= 0 and
                             out.max() < s2s.target_vocabulary.size)


@pytest.fixture(scope="module")
def classifier():
    model = SequenceClassifier(num_classes=3, tokens=list("abc"), units=4)
    model(tf.zeros((1, 2), tf.int32))
    return model


@pytest.fixture(scope="module")
def generator():
    model = ConditionedGenerator(list("abc"), units=4, max_decode_length=5)
    model((tf.zeros((1, 4)), tf.zeros((1, 2), tf.int32)))
    return model


@SWEEP
@given(texts=ANY([["ab"], [], [""], "ab", ["aZ", "cab"], [None], (b"a",)]))
def test_classify_texts(classifier, texts):
    got = outcome(lambda: classifier.classify_texts(texts))
    if got[0] == "error":
        refused(got[1], "texts")
        return
    assert isinstance(texts, list) and all(isinstance(t, str) for t in texts)
    assert got[1].shape == (len(texts), 3)
    np.testing.assert_allclose(got[1].sum(axis=1), 1, rtol=1e-5)


@SWEEP
@given(features=ANY([np.zeros((2, 4)), np.zeros((0, 4)), np.zeros((2, 5)),
                     np.zeros(4), np.full((1, 4), "x")]),
       greedy=st.booleans(), top_k=ANY([None, 2, 0, 9]),
       max_length=ANY([None, 1, 0, MAX_LENGTH + 1]))
def test_generator_generate(generator, features, greedy, top_k, max_length):
    got = outcome(lambda: generator.generate(features, greedy=greedy,
                                             top_k=top_k,
                                             max_length=max_length))
    if got[0] == "error":
        refused(got[1], "features", "top_k", "max_length")
        return
    assert features.dtype.kind == "f" and features.shape[1:] == (4,)
    assert len(got[1]) == features.shape[0]
    assert all(len(t) <= (max_length or 5) and set(t) <= set("abc")
               for t in got[1])


# -- tfrnn.data --------------------------------------------------------------

@SWEEP
@given(texts=ANY([["abc", "bcd"], [], [""], "abc", ["  "], ["a b", "b c"]]),
       level=ANY(["char", "token", "word"]),
       max_size=ANY([None, 5, 6, 4, 0, -1, 2.5]),
       min_count=ANY([1, 2, 0, 1.5]))
def test_vocabulary_from_texts(texts, level, max_size, min_count):
    got = outcome(lambda: data.Vocabulary.from_texts(
        texts, level=level, max_size=max_size, min_count=min_count))
    if got[0] == "error":
        refused(got[1], "texts", "level", "max_size", "min_count")
        return
    vocab = got[1]
    assert isinstance(texts, list) and level in ("char", "token")
    assert 4 < vocab.size <= (max_size or vocab.size)
    units = [u for t in texts for u in (t if level == "char" else t.split())]
    assert set(vocab.tokens[4:]) <= set(units)


@SWEEP
@given(lengths=st.lists(st.integers(0, 30), max_size=12),
       num_buckets=ANY([1, 3, 8, 0, -2, 2.5]))
def test_bucket_boundaries(lengths, num_buckets):
    got = outcome(lambda: data.bucket_boundaries(lengths, num_buckets))
    if got[0] == "error":
        refused(got[1], "lengths", "num_buckets")
        return
    assert lengths and isinstance(num_buckets, int) and num_buckets >= 1
    assert got[1] == sorted(set(got[1])) and all(b >= 1 for b in got[1])


@SWEEP
@given(lengths=st.lists(st.integers(1, 9), min_size=1, max_size=10),
       boundaries=ANY([[], [3], [2, 5], [5, 2], [3, 3], [0, 4], [-1],
                       [2.5]]),
       batch_size=ANY([1, 3, 0, -1]))
def test_bucket_by_length_keeps_every_example(lengths, boundaries,
                                              batch_size):
    dataset = tf.data.Dataset.from_generator(
        lambda: (np.full(n, n, np.int32) for n in lengths),
        output_signature=tf.TensorSpec([None], tf.int32))
    got = outcome(lambda: list(data.bucket_by_length(
        dataset, batch_size, boundaries).as_numpy_iterator()))
    if got[0] == "error":
        refused(got[1], "boundaries", "batch_size")
        return
    assert batch_size >= 1 and boundaries == sorted(set(boundaries))
    seen = sorted(int(row[0]) for batch in got[1] for row in batch)
    assert seen == sorted(lengths)  # every example once, padding with 0
    for batch in got[1]:
        for row in batch:
            assert list(row[:row[0]]) == [row[0]] * row[0]
            assert not row[row[0]:].any()


# -- requests that could exhaust memory, in a subprocess ---------------------

BOUNDED = """
import tensorflow as tf
from tfrnn.zoo import CharLSTM, Seq2Seq
lm = CharLSTM(list("ab"), units=4, num_layers=1, embedding_dim=2)
lm(tf.zeros((1, 2), tf.int32))
s2s = Seq2Seq(list("12"), list("12"), units=4, embedding_dim=2)
s2s((tf.zeros((1, 2), tf.int32), tf.zeros((1, 2), tf.int32)))
for call in [lambda: lm.generate("ab", 10 ** 9),
             lambda: lm.generate("ab", 2 ** 31),
             lambda: s2s.translate(["12"], beam_width=10 ** 6),
             lambda: s2s.greedy_decode([[4, 5]], max_length=10 ** 9)]:
    try:
        call()
        print("ACCEPTED")
    except ValueError as err:
        print("REFUSED", err)
"""


def test_bounded_requests_in_a_subprocess():
    """A huge generation length or beam is refused naming the bound; the
    process neither aborts (std::bad_alloc killed it before) nor hangs."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(BOUNDED)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [l for l in result.stdout.splitlines()
             if l.startswith(("REFUSED", "ACCEPTED"))]
    assert len(lines) == 4 and all(l.startswith("REFUSED") for l in lines), \
        result.stdout
    assert f"[0, {MAX_LENGTH}]" in lines[0]
    assert f"[1, {MAX_BEAM_WIDTH}]" in lines[2]
