"""Fuzzed op inputs: random shapes (zeros included), wrong ranks, sizes
off by one, lengths out of range, NaN/Inf, wrong dtypes, huge empty
dimensions. Every call returns a result or raises a TensorFlow error (never
a crash); every valid call matches the pure-TF reference."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfrnn.ops import reference
from tfrnn.ops.loader import library

pytestmark = pytest.mark.skipif(library.ops is None,
                                reason="the compiled op is not loaded")
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
# The bias shape of H units per kind.
BIAS = {"lstm": lambda h: (4 * h,), "gru": lambda h: (2, 3 * h),
        "rnn": lambda h: (h,)}


def expected_valid(kind, args):
    """The contract, independently of the kernel: shapes, dtypes, lengths."""
    x = args["x"]
    if x.ndim != 3 or args["h0"].ndim != 2 or args["kernel"].ndim != 2:
        return False
    B, T, I = x.shape
    H = Hh = args["h0"].shape[1]  # units; h's width
    if kind == "lstm" and args["projection_kernel"].shape != (0,):
        if args["projection_kernel"].ndim != 2:
            return False
        H, Hh = args["projection_kernel"].shape
        if Hh == 0:
            return False
    G = GATES[kind]
    shapes = {"h0": (B, Hh), "kernel": (I, G * H),
              "recurrent_kernel": (Hh, G * H), "sequence_length": (B,),
              "bias": BIAS[kind](H)}
    if kind == "lstm":
        shapes["c0"] = (B, H)
    if any(args[n].shape != shape for n, shape in shapes.items()):
        return False
    if args["recurrent_mask"].shape not in ((0,), (B, Hh)):
        return False
    if kind == "lstm" and not lstm_options_valid(args, B, T, H, Hh):
        return False
    if args["sequence_length"].dtype != np.int32 or any(
            args[n].dtype != np.float32 for n in args
            if n != "sequence_length"):
        return False
    lengths = args["sequence_length"]
    return bool(np.all((lengths >= 0) & (lengths <= T)))


LAYER_NORM = ("gain_x", "gain_h", "gain_c", "shift_c")


def lstm_options_valid(args, B, T, H, Hh):
    """peephole [0] or [3,H]; each zoneout [0], a scalar or [B,T,width]
    (zoneout_h's Hh, h's) with every value in [0, 1] (NaN is not); the
    layer norm's four all [0] or [4H], [4H], [H], [H]."""
    if args["peephole"].shape not in ((0,), (3, H)):
        return False
    shapes = [args[n].shape for n in LAYER_NORM]
    if shapes != [(0,)] * 4 and shapes != [(4 * H,), (4 * H,), (H,), (H,)]:
        return False
    for name, width in (("zoneout_h", Hh), ("zoneout_c", H)):
        z = args[name]
        if z.shape not in ((0,), (), (B, T, width)):
            return False
        if z.dtype == np.float32 and not np.all((z >= 0) & (z <= 1)):
            return False
    return True


def draw_lstm_options(draw, rng, B, T, H, Hh):
    """The LSTM's option inputs, each off or on (zoneout as a scalar or a
    per-step 0/1 mask; the layer norm's four together); zoneout_h Hh wide
    (h's width: a projection's)."""
    def zoneouts(width):
        return [np.zeros([0], "f"), np.float32(rng.uniform()),
                (rng.uniform(size=(B, T, width)) < 0.5).astype("f")]

    options = {"peephole": draw(st.sampled_from(
                   [np.zeros([0], "f"),
                    rng.standard_normal((3, H)).astype("f")])),
               "zoneout_h": draw(st.sampled_from(zoneouts(Hh))),
               "zoneout_c": draw(st.sampled_from(zoneouts(H)))}
    layer_norm = draw(st.booleans())
    for name, size in zip(LAYER_NORM, (4 * H, 4 * H, H, H)):
        options[name] = (1 + 0.3 * rng.standard_normal(size)).astype("f") \
            if layer_norm else np.zeros([0], "f")
    return options


@st.composite
def op_inputs(draw, kind):
    """(inputs dict, whether they are valid) for TfrnnLstm / Gru / Rnn."""
    B, T, I, H = (draw(st.integers(0, 4)) for _ in range(4))
    G = GATES[kind]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    f = lambda *shape: rng.standard_normal(shape).astype("f")  # noqa: E731
    # The LSTM's projection [H, Hh] (Hh = 0 is refused), or none.
    projected = kind == "lstm" and draw(st.booleans())
    Hh = draw(st.integers(0, 4)) if projected else H
    args = {"x": f(B, T, I), "h0": f(B, Hh), "kernel": f(I, G * H),
            "recurrent_kernel": f(Hh, G * H),
            "bias": f(*BIAS[kind](H)),
            "sequence_length": rng.integers(0, T + 1, B).astype("i"),
            "recurrent_mask": draw(st.sampled_from(
                [np.zeros([0], "f"), f(B, Hh)]))}
    clip = -1.0
    if kind == "lstm":
        args["c0"] = f(B, H)
        args.update(draw_lstm_options(draw, rng, B, T, H, Hh))
        args["projection_kernel"] = (f(H, Hh) * 0.5 if projected
                                     else np.zeros([0], "f"))
        clip = draw(st.sampled_from([-1.0, 0.5, 2.0]))
    fault = draw(st.sampled_from(["none", "rank", "size", "length", "nan",
                                  "dtype", "huge"]))
    name = draw(st.sampled_from(sorted(args)))
    value = args[name]
    if fault == "rank":
        args[name] = (value[None] if draw(st.booleans()) or value.ndim == 0
                      else np.zeros(value.shape[1:], value.dtype))
    elif fault == "size" and value.ndim > 0:
        axis = draw(st.integers(0, value.ndim - 1))
        grown = list(value.shape)
        grown[axis] += 1
        args[name] = np.resize(value, grown).astype(value.dtype)
    elif fault == "length" and B > 0:
        lengths = args["sequence_length"].copy()
        lengths[draw(st.integers(0, B - 1))] = draw(st.sampled_from(
            [-1, T + 1, 2**31 - 1, -2**31]))
        args["sequence_length"] = lengths
    elif fault == "nan" and value.dtype == np.float32 and value.size:
        value = value.copy()
        value.flat[draw(st.integers(0, value.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf]))
        args[name] = value
    elif fault == "dtype":
        args[name] = value.astype("f8" if value.dtype == np.float32 else "f")
    elif fault == "huge":
        # Huge dimensions that hold no element.
        args["x"] = np.zeros((0, 2**20, 2**20), "f")
    valid = expected_valid(kind, args)
    return args, valid, clip


def run_op(kind, args, clip):
    names = (["x", "h0", "c0"] if kind == "lstm" else ["x", "h0"]) + [
        "kernel", "recurrent_kernel", "bias", "sequence_length",
        "recurrent_mask"]
    if kind == "lstm":
        names += ["peephole", "zoneout_h", "zoneout_c", *LAYER_NORM,
                  "projection_kernel"]
    # Tensors, not numpy arrays: the op wrapper would cast arrays to a
    # common dtype, and the kernel must see what a caller really passes.
    tensors = [tf.constant(args[n]) for n in names]
    if kind == "rnn":
        return library.ops.tfrnn_rnn(*tensors, nonlinearity="relu")
    if kind == "lstm":
        return library.ops.tfrnn_lstm(*tensors, is_training=True,
                                      cell_clip=clip)
    return library.ops.tfrnn_gru(*tensors, is_training=True)


def run_reference(kind, args, clip):
    args = {k: tf.constant(v) for k, v in args.items()}
    kwargs = dict(recurrent_mask=args["recurrent_mask"])  # [0]: none
    if kind == "lstm":
        return reference.lstm_sequence(
            args["x"], args["h0"], args["c0"], args["kernel"],
            args["recurrent_kernel"], args["bias"], args["sequence_length"],
            peephole=args["peephole"], zoneout_h=args["zoneout_h"],
            zoneout_c=args["zoneout_c"], cell_clip=clip,
            layer_norm_weights=[args[n] for n in LAYER_NORM],
            layer_norm_epsilon=float(np.float32(1e-3)),
            projection=args["projection_kernel"], **kwargs)
    if kind == "rnn":
        kwargs["nonlinearity"] = "relu"
    sequence = (reference.rnn_sequence if kind == "rnn"
                else reference.gru_sequence)
    return sequence(
        args["x"], args["h0"], args["kernel"], args["recurrent_kernel"],
        args["bias"], args["sequence_length"], **kwargs)


@pytest.mark.parametrize("kind", sorted(GATES))
def test_fuzzed_sequence_ops(kind):
    @SETTINGS
    @given(op_inputs(kind))
    def check(case):
        args, valid, clip = case
        try:
            result = run_op(kind, args, clip)
        except (tf.errors.InvalidArgumentError, TypeError) as err:
            # TypeError: the Python op wrapper refusing a mixed dtype.
            assert not valid, f"valid inputs refused: {err}"
            return
        except tf.errors.OpError as err:
            pytest.fail(f"unexpected error kind {type(err).__name__}: {err}")
        assert valid, "invalid inputs accepted"
        expected = run_reference(kind, args, clip)
        for got, want in zip(result, expected):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)

    check()


@st.composite
def step_inputs(draw):
    B, I, H = (draw(st.integers(0, 3)) for _ in range(3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shapes = {"x": [B, I], "h": [B, H], "c": [B, H], "kernel": [I, 4 * H],
              "recurrent_kernel": [H, 4 * H], "bias": [4 * H]}
    bad = draw(st.sampled_from([None] + sorted(shapes)))
    if bad is not None:
        shapes[bad] = shapes[bad] + [1] if draw(st.booleans()) else \
            [n + 1 for n in shapes[bad]]
    return {k: rng.standard_normal(s).astype("f")
            for k, s in shapes.items()}, bad is None


def test_fuzzed_step_op():
    @SETTINGS
    @given(step_inputs())
    def check(case):
        args, valid = case
        none = tf.zeros([0])  # no peephole, no zoneout
        try:
            h, c, _ = library.ops.tfrnn_lstm_step(
                **{k: tf.constant(v) for k, v in args.items()},
                peephole=none, zoneout_h=none, zoneout_c=none,
                gain_x=none, gain_h=none, gain_c=none, shift_c=none,
                projection_kernel=none)
        except tf.errors.InvalidArgumentError:
            assert not valid
            return
        assert valid
        want_h, want_c = reference.lstm_step(
            **{k: tf.constant(v) for k, v in args.items()})
        np.testing.assert_allclose(h, want_h, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(c, want_c, rtol=1e-5, atol=1e-5)

    check()
