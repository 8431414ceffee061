"""Regression tests for the bad inputs the public-API sweep
(tests/test_api_sweep.py) and its first probes found: each was accepted
in silence, answered a wrong shape or value, aborted the process, or
failed with a raw error naming no argument. Each is now refused before any
work by an error naming the argument, or (where marked) accepted with the
right result."""

import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrnn
from tfrnn import data, interop
from tfrnn.export import export_for_serving
from tfrnn.layers import StackedRNN
from tfrnn.zoo import (CharLSTM, ConditionedGenerator, Seq2Seq,
                       SequenceClassifier)

X = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
LAYERS = [tfrnn.layers.LSTM, tfrnn.layers.GRU, tfrnn.layers.SimpleRNN]


# -- layers ----------------------------------------------------------------

@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("mask,message", [
    (np.ones((2, 4), bool), r"mask must be \[batch, time\] \[2, 5\]"),
    (np.ones((2, 6), bool), r"mask must be \[batch, time\] \[2, 5\]"),
    (np.ones((3, 5), bool), r"mask must be \[batch, time\] \[2, 5\]"),
    (np.ones((2,), bool), r"mask must be"),
    (tf.fill([2, 5], "x"), r"mask must be bool")])
def test_a_mask_of_other_sizes_is_refused(layer, mask, message):
    """A mask one step short returned 4 steps for 5 (Keras refuses it); a
    longer one failed in a raw GatherV2."""
    with pytest.raises((ValueError, TypeError), match=message):
        layer(4, return_sequences=True)(X, mask=mask)


@pytest.mark.parametrize("layer", LAYERS)
def test_masks_keras_takes_give_keras_numbers(layer):
    """[B, T, 1] masks and numeric masks, as Keras takes them."""
    keep = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]])
    ours = layer(4, return_sequences=True)
    theirs = getattr(keras.layers, layer.__name__)(4, return_sequences=True)
    ours.build(X.shape)
    theirs.build(X.shape)
    theirs.set_weights(ours.get_weights())
    for mask in (keep[:, :, None].astype(bool), keep.astype("float32")):
        np.testing.assert_allclose(ours(X, mask=mask), theirs(X, mask=mask),
                                   rtol=1e-5, atol=1e-6)


def test_a_mask_checked_when_sizes_are_known_only_at_run_time():
    layer = tfrnn.layers.GRU(4)
    call = tf.function(lambda x, m: layer(x, mask=m), input_signature=[
        tf.TensorSpec([None, None, 3]), tf.TensorSpec([None, None], tf.bool)])
    call(X, np.ones((2, 5), bool))
    with pytest.raises(tf.errors.InvalidArgumentError, match="mask must be"):
        call(X, np.ones((2, 4), bool))


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("inputs", [tf.complex(X, X), tf.fill([2, 5, 3], "a")])
def test_complex_and_string_inputs_are_refused(layer, inputs):
    """complex64 was cast to float32 in silence, the imaginary part lost."""
    with pytest.raises(TypeError, match="inputs must be a float tensor"):
        layer(4)(inputs)


def test_one_initial_state_per_state():
    """SimpleRNN took three initial states and used the first."""
    state = np.zeros((2, 4), "float32")
    with pytest.raises(ValueError, match=r"takes 1 initial state\(s\) \[h\]"):
        tfrnn.layers.SimpleRNN(4)(X, initial_state=[state] * 3)


@pytest.mark.parametrize("options,message", [
    ({"zoneout_h": "x"}, r"zoneout_h must be in \[0, 1\], got 'x'"),
    ({"cell_clip": "x"}, "cell_clip must be positive"),
    ({"proj_size": 2.5}, "proj_size must be a positive int"),
    ({"proj_size": "2"}, "proj_size must be a positive int")])
def test_lstm_option_types(options, message):
    """proj_size=2.5 built a 2-wide projection in silence; strings failed
    in raw comparisons."""
    with pytest.raises(ValueError, match=message):
        tfrnn.layers.LSTM(3, **options)


# -- StackedRNN and interop --------------------------------------------------

def test_layer_kwargs_nonlinearity_is_taken():
    """layer_kwargs={"nonlinearity": "relu"} built tanh layers."""
    for kwargs in ({"nonlinearity": "relu"}, {"activation": "relu"}):
        stack = StackedRNN(4, cell="rnn", num_layers=2, layer_kwargs=kwargs)
        stack(X)
        assert stack.nonlinearity == "relu" and stack.torch_mode == \
            "rnn_relu"
        assert all(layer.cell.activation is keras.activations.relu
                   for layer in stack.recurrent_layers)


@pytest.mark.parametrize("named,kwargs,message", [
    ({"nonlinearity": "relu"}, {"nonlinearity": "tanh"}, "disagree"),
    ({"bias": True, "cell": "gru"}, {"use_bias": False}, None),
    ({"proj_size": 2}, {"proj_size": 3}, "disagree"),
    ({}, {"time_major": True}, "cannot set"),
    ({}, {"return_sequences": False}, "cannot set")])
def test_layer_kwargs_never_silently_lose(named, kwargs, message):
    """use_bias=False in layer_kwargs built layers without biases while the
    stack's bias (and torch state dict) said True; time_major there ran
    every layer on the wrong axis."""
    options = {"cell": "rnn", **named}
    if message is None:  # the named one at its default: layer_kwargs wins
        stack = StackedRNN(4, layer_kwargs=kwargs, **options)
        assert stack.bias is False and "bias_ih_l0" not in (
            stack(X), stack.torch_state_dict())[1]
        return
    if "proj_size" in named:
        options["cell"] = "lstm"
    with pytest.raises(ValueError, match=message):
        StackedRNN(4, layer_kwargs=kwargs, **options)


@pytest.mark.parametrize("lengths,error", [
    ([6, 1], tf.errors.InvalidArgumentError), ([-1, 1],
                                               tf.errors.InvalidArgumentError),
    ([1.5, 1], TypeError), ([1, 1, 1], ValueError)])
def test_sequence_length_in_range(lengths, error):
    """A length past T was cut to T in silence, a negative one ran as 0."""
    with pytest.raises(error, match="sequence_length"):
        StackedRNN(4)(X, sequence_length=lengths)


def test_stack_initial_state_rows():
    with pytest.raises(ValueError, match=r"\[num_layers \* num_directions = "
                                         r"4, B, H\]"):
        StackedRNN(4, cell="gru", num_layers=2, bidirectional=True)(
            X, initial_state=np.zeros((2, 2, 4), "float32"))


@pytest.mark.parametrize("num_layers", [2.5, "2", True])
def test_num_layers_an_integer(num_layers):
    with pytest.raises(ValueError, match="num_layers must be an integer"):
        StackedRNN(4, num_layers=num_layers)


def test_state_dicts_misshaped_or_not_numbers():
    stack = StackedRNN(4)
    stack(X)
    state = stack.torch_state_dict()
    with pytest.raises(ValueError, match=r"bias_ih has shape \(5,\)"):
        interop.from_torch({**state, "bias_ih_l0": np.zeros(5)}, "lstm")
    with pytest.raises(ValueError, match="rank-2 array of numbers"):
        interop.from_torch({**state, "weight_ih_l0": "x"}, "lstm")
    wider = StackedRNN(4)
    wider(np.zeros((2, 5, 7), "float32"))
    with pytest.raises(ValueError, match="another input size"):
        wider.load_torch_state_dict(state)


def test_an_unbuilt_stack_loads_a_state_dict():
    source = StackedRNN(4, num_layers=2)
    source(X)
    target = StackedRNN(4, num_layers=2)
    target.load_torch_state_dict(source.torch_state_dict())
    np.testing.assert_allclose(target(X), source(X), rtol=1e-6)


# -- the zoo ---------------------------------------------------------------

@pytest.fixture
def lm(small_char_lstm):
    return small_char_lstm


@pytest.fixture
def s2s(small_seq2seq):
    return small_seq2seq


@pytest.mark.parametrize("kwargs,error,message", [
    ({"length": 2.5}, TypeError, "length must be an integer"),
    ({"length": None}, TypeError, "length must be an integer"),
    ({"length": 10 ** 7}, ValueError, r"length must be in \[0, 1000000\]"),
    ({"top_k": 2.5}, TypeError, "top_k must be an integer"),
    ({"temperature": float("inf")}, ValueError, "finite number"),
    ({"greedy": True, "temperature": "hot"}, ValueError, "temperature"),
    ({"seed": 2 ** 40}, ValueError, "seed must be in"),
    ({"prime": b"ab"}, TypeError, "prime must be a str"),
    ({"prime": ["ab"]}, TypeError, "prime must be a str")])
def test_generate_arguments(lm, kwargs, error, message):
    """A seed past int32 wrapped onto another seed's text; an infinite
    temperature sampled uniformly; the rest failed with raw errors."""
    kwargs = {"prime": "ab", "length": 3, **kwargs}
    with pytest.raises(error, match=message):
        lm.generate(**kwargs)


def test_decode_and_log_likelihood_ranges(lm):
    with pytest.raises(ValueError, match=r"ids must be integers in \[0, 13\)"):
        lm.decode([100, -1])
    ids = tf.constant([[4, 5, 6]])
    for lengths in ([5], [-1]):  # a wrong count, or 0, in silence before
        with pytest.raises(tf.errors.InvalidArgumentError, match="lengths"):
            lm.log_likelihood(ids, tf.constant(lengths))


def test_translate_inputs(s2s):
    """[] and [""] failed (the latter depending on what was traced first);
    one str was read as a list; unknown characters became <unk>."""
    assert s2s.translate([]) == []
    first = s2s.translate([""])
    assert len(first) == 1 and s2s.translate([""]) == first
    with pytest.raises(TypeError, match="texts must be a list of str"):
        s2s.translate("12")
    with pytest.raises(ValueError, match=r"not in the source vocabulary: "
                                         r"\['x'\]"):
        s2s.translate(["1x"])
    with pytest.raises(TypeError, match="beam_width must be an integer"):
        s2s.translate(["12"], beam_width=2.5)


def test_decoding_source_ids(s2s):
    with pytest.raises(ValueError, match=r"source ids must lie in \[0, 16\)"):
        s2s.greedy_decode([[500, 1]])
    with pytest.raises(TypeError, match="source ids must be integers"):
        s2s.greedy_decode([[1.5, 2.0]])
    assert s2s.greedy_decode(np.zeros((0, 3), "int32")).shape[0] == 0
    assert s2s.beam_search(np.zeros((2, 0), "int32"), 2).shape[0] == 2


@pytest.mark.parametrize("make,message", [
    (lambda: CharLSTM([]), "tokens is empty"),
    (lambda: CharLSTM(list("ab"), units=[8, 2.5]),
     "each of units must be an integer"),
    (lambda: CharLSTM(list("ab"), units="8"), "units must be an integer"),
    (lambda: CharLSTM(list("ab"), num_layers="2"), "num_layers must be"),
    (lambda: SequenceClassifier(3, vocab_size=0), r"vocab_size must be in"),
    (lambda: Seq2Seq(list("1"), list("1"), max_decode_length=0),
     r"max_decode_length must be in \[1, ")])
def test_zoo_constructors(make, message):
    """An empty token list built a model of no characters, vocab_size=0 a
    classifier that failed at its first call, max_decode_length=0 one that
    failed at its first decode."""
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_classify_texts_inputs():
    clf = SequenceClassifier(num_classes=3, tokens=list("abc"), units=4)
    clf(tf.zeros((1, 2), tf.int32))
    assert clf.classify_texts([]).shape == (0, 3)
    empty = clf.classify_texts([""])
    assert empty.shape == (1, 3) and np.allclose(empty.sum(), 1)
    with pytest.raises(TypeError, match="texts must be a list of str"):
        clf.classify_texts("ab")


def test_generator_features_width():
    gen = ConditionedGenerator(list("abc"), units=8)
    gen((tf.zeros((1, 4)), tf.zeros((1, 2), tf.int32)))
    with pytest.raises(ValueError, match=r"features must be \[B, 4\]"):
        gen.generate(np.zeros((2, 5), "float32"))


# -- tfrnn.data --------------------------------------------------------------

@pytest.mark.parametrize("call,error,message", [
    (lambda: data.Vocabulary.from_texts([]), ValueError, "empty vocabulary"),
    (lambda: data.Vocabulary.from_texts("hello world", level="token"),
     TypeError, "not one string"),
    (lambda: data.Vocabulary.from_texts(["abc"], max_size=-1), ValueError,
     "max_size"),
    (lambda: data.Vocabulary(list("aab")), ValueError, r"repeated \['a'\]"),
    (lambda: data.Vocabulary(list("ab")).encode(5), TypeError,
     "text must be strings"),
    (lambda: data.bucket_boundaries([]), ValueError, "lengths is empty"),
    (lambda: data.bucket_boundaries([1, 2], num_buckets=0), ValueError,
     "num_buckets"),
    (lambda: data.bucket_boundaries([-1, 2]), ValueError, "lengths must"),
    (lambda: data.synthetic.copy_task(-1, 5), ValueError, "num_examples"),
    (lambda: data.tfds_adapters.char_language_model(["ab"], None, 4, 2),
     TypeError, "documents must be a tf.data.Dataset")])
def test_data_arguments(call, error, message):
    """An empty corpus made an empty vocabulary, one str a vocabulary of
    its characters, max_size=-1 dropped the last token, num_buckets=0 and
    negative lengths made boundaries; the rest failed with raw errors."""
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("boundaries", [[5, 3], [3, 3], [0, 4], [2.5]])
def test_bucket_boundaries_increasing(boundaries):
    dataset = tf.data.Dataset.from_tensor_slices([[1, 2]])
    with pytest.raises(ValueError, match="boundaries must be increasing"):
        data.bucket_by_length(dataset, 2, boundaries)


# -- export and the command line ---------------------------------------------

def test_export_into_a_file_or_an_unbuilt_model(tmp_path, lm):
    (tmp_path / "afile").write_text("")
    with pytest.raises(NotADirectoryError, match="is a file"):
        export_for_serving(lm, str(tmp_path / "afile"), "m")
    with pytest.raises(ValueError, match="build the model"):
        export_for_serving(CharLSTM(list("ab")), str(tmp_path / "s"), "m")
    with pytest.raises(ValueError, match="build the model"):
        export_for_serving(keras.Sequential([keras.layers.Dense(2)]),
                           str(tmp_path / "s"), "k")
    path = export_for_serving(lm, str(tmp_path / "s"), "m", version=3)
    with pytest.raises(FileExistsError, match="never overwritten"):
        export_for_serving(lm, str(tmp_path / "s"), "m", version=3)
    assert os.path.basename(path) == "3"


def test_the_package_root_reaches_every_subpackage():
    """The README's `tfrnn.training...` after `import tfrnn` raised
    AttributeError."""
    script = ("import tfrnn; tfrnn.training.MaskedSparseCategoricalCrossentr"
              "opy(); tfrnn.export.export_for_serving; tfrnn.interop")
    subprocess.run([sys.executable, "-c", script], check=True,
                   capture_output=True, timeout=300)


@pytest.mark.parametrize("argv,message", [
    (["generate", "{model}", "--prime", "ab", "--length", "1000000000"],
     r"length must be in \[0, 1000000\]"),
    (["export", "{model}", "/proc/tfrnn/serving", "--name", "x"],
     "/proc/tfrnn"),  # not writable, even for root
    (["export", "{model}", "{tmp}/afile/sub", "--name", "x"],
     "is a file, not a directory")])
def test_cli_errors_are_one_line(tmp_path, lm, argv, message):
    """A huge --length aborted the process (std::bad_alloc, exit 134); an
    export into a file's path died in a NotADirectoryError traceback."""
    model = str(tmp_path / "m.keras")
    lm.save(model)
    (tmp_path / "afile").write_text("")
    argv = [a.format(model=model, tmp=tmp_path) for a in argv]
    result = subprocess.run([sys.executable, "-m", "tfrnn", *argv],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "error:" in result.stderr and re.search(message, result.stderr)
