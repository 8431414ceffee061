"""Every bad input to the op is an InvalidArgumentError naming the argument.

Each case runs three ways: through `tfrnn.ops.lstm_sequence` eagerly (the
shape function or the Python checks answer), through the raw kernel in a
graph whose shapes are unknown (only the kernel's run-time checks can
answer), and through the pure-TF fallback.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfrnn import ops
from tfrnn.ops import reference
from tfrnn.ops.loader import library
from rnn_problems import make_problem

B, T, I, H, P = 3, 4, 2, 5, 3


def steps_mask(width):
    return (np.arange(B * T * width).reshape(B, T, width) % 2
            ).astype(np.float32)


def good_args(projected=False):
    """Every input valid, every option on; `projected`: with a projection
    [H, P] (h0, recurrent_kernel, recurrent_mask, zoneout_h P wide)."""
    p = make_problem(np.random.default_rng(0), B, T, I, H)
    args = dict(x=p.x, h0=p.h0, c0=p.c0, kernel=p.kernel,
                recurrent_kernel=p.recurrent_kernel, bias=p.bias,
                sequence_length=np.array([4, 2, 0], np.int32),
                recurrent_mask=np.full((B, H), 1.25, np.float32),
                peephole=np.full((3, H), 0.5, np.float32),
                zoneout_h=np.float32(0.25), zoneout_c=steps_mask(H),
                gain_x=np.full(4 * H, 1.5, np.float32),
                gain_h=np.full(4 * H, 0.5, np.float32),
                gain_c=np.ones(H, np.float32),
                shift_c=np.full(H, 0.1, np.float32),
                projection_kernel=np.zeros([0], np.float32))
    if projected:
        rng = np.random.default_rng(1)
        args.update(h0=p.h0[:, :P],
                    recurrent_kernel=rng.normal(size=(P, 4 * H)).astype(
                        np.float32),
                    recurrent_mask=np.full((B, P), 1.25, np.float32),
                    zoneout_h=steps_mask(P),
                    projection_kernel=rng.normal(size=(H, P)).astype(
                        np.float32))
    return args


LAYER_NORM = ("gain_x", "gain_h", "gain_c", "shift_c")


def folded(args, key="layer_norm", projection="projection"):
    """args with the layer norm's four as the wrappers' one argument and
    the projection under the wrappers' name."""
    args = dict(args)
    args[projection] = args.pop("projection_kernel")
    return dict(args, **{key: tuple(args.pop(k) for k in LAYER_NORM)})


def with_change(name, value):
    projected = name.endswith(" projected")
    args = good_args(projected)
    name = name.removesuffix(" projected")
    args[name] = value(args[name]) if callable(value) else value
    return args


SHAPE_CASES = {
    "x rank 2": ("x", lambda a: a[:, 0]),
    "x features": ("x", lambda a: np.zeros((B, T, I + 1), np.float32)),
    "h0 batch": ("h0", lambda a: a[:2]),
    "h0 rank": ("h0", lambda a: a[None]),
    "c0 units": ("c0", lambda a: a[:, :-1]),
    "kernel columns": ("kernel", lambda a: a[:, :-1]),
    "kernel rank": ("kernel", lambda a: a[None]),
    "recurrent_kernel square": ("recurrent_kernel",
                                lambda a: a[:, :4 * (H - 1)]),
    "bias size": ("bias", lambda a: a[:-1]),
    "bias rank": ("bias", lambda a: a[None]),
    "sequence_length size": ("sequence_length", np.array([4, 2], np.int32)),
    "sequence_length rank": ("sequence_length",
                             np.array([[4, 2, 0]], np.int32)),
    "sequence_length negative": ("sequence_length",
                                 np.array([4, -1, 0], np.int32)),
    "sequence_length above T": ("sequence_length",
                                np.array([4, T + 1, 0], np.int32)),
    "recurrent_mask units": ("recurrent_mask", lambda a: a[:, :-1]),
    "recurrent_mask rank": ("recurrent_mask", lambda a: a[0]),
    "peephole units": ("peephole", lambda a: a[:, :-1]),
    "peephole rank": ("peephole", lambda a: a[0]),
    "zoneout_h rank": ("zoneout_h", lambda a: a[None, None]),
    "zoneout_h above 1": ("zoneout_h", np.float32(1.5)),
    "zoneout_c steps": ("zoneout_c", lambda a: a[:, :-1]),
    "zoneout_c negative": ("zoneout_c", lambda a: a - 0.5),
    "zoneout_c nan": ("zoneout_c", lambda a: a * np.nan),
    "gain_x size": ("gain_x", lambda a: a[:-1]),
    "gain_h rank": ("gain_h", lambda a: a[None]),
    "gain_c size": ("gain_c", lambda a: np.ones(4 * H, np.float32)),
    "shift_c size": ("shift_c", lambda a: a[:-1]),
    "gain_h alone missing": ("gain_h", np.zeros([0], np.float32)),
    "projection_kernel rank": ("projection_kernel",
                               np.ones(H * P, np.float32)),
    # Under a projection (" projected": the changed name's suffix):
    "projection_kernel no columns": ("projection_kernel projected",
                                     lambda a: a[:, :0]),
    "projection_kernel rows": ("projection_kernel projected",
                               lambda a: np.ones((H + 1, P), np.float32)),
    "h0 width": ("h0 projected", np.zeros((B, H), np.float32)),
    "recurrent_kernel rows": ("recurrent_kernel projected",
                              lambda a: np.ones((H, 4 * H), np.float32)),
    "recurrent_mask width": ("recurrent_mask projected",
                             np.ones((B, H), np.float32)),
    "zoneout_h width": ("zoneout_h projected", steps_mask(H)),
    "c0 width": ("c0 projected", np.zeros((B, P), np.float32)),
}
SEQUENCE_INPUTS = ["x", "h0", "c0", "kernel", "recurrent_kernel", "bias",
                   "sequence_length", "recurrent_mask", "peephole",
                   "zoneout_h", "zoneout_c", *LAYER_NORM, "projection_kernel"]
# Which argument the message must name (the x/kernel mismatch names both;
# a projection's rows are the kernels' H).
NAMED = {"x features": "kernel", "recurrent_kernel square": "recurrent_kernel",
         "projection_kernel rows": "recurrent_kernel"}

DTYPE_CASES = {
    "h0 float64": ("h0", lambda a: a.astype(np.float64)),
    "kernel float16": ("kernel", lambda a: a.astype(np.float16)),
    "x int32": ("x", lambda a: a.astype(np.int32)),
    "sequence_length float": ("sequence_length",
                              lambda a: a.astype(np.float32)),
    "peephole float64": ("peephole", lambda a: a.astype(np.float64)),
    "gain_c float64": ("gain_c", lambda a: a.astype(np.float64)),
}


def expected_name(case):
    return NAMED.get(case, case.split()[0])


@pytest.mark.parametrize("case", sorted({**SHAPE_CASES, **DTYPE_CASES}))
def test_wrapper_rejects(case):
    name, change = {**SHAPE_CASES, **DTYPE_CASES}[case]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=expected_name(case)):
        ops.lstm_sequence(**folded(with_change(name, change)))


@pytest.mark.parametrize("case", sorted(SHAPE_CASES))
def test_kernel_rejects_at_run_time_with_unknown_shapes(case):
    name, change = SHAPE_CASES[case]
    args = with_change(name, change)
    order = SEQUENCE_INPUTS
    specs = [tf.TensorSpec(None, tf.int32 if n == "sequence_length"
                           else tf.float32) for n in order]

    @tf.function(input_signature=specs)
    def raw(*a):
        return library.ops.tfrnn_lstm(*a)[0]

    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=expected_name(case)):
        raw(*[args[n] for n in order])


@pytest.mark.parametrize("case", sorted(SHAPE_CASES))
def test_fallback_rejects(case):
    name, change = SHAPE_CASES[case]
    args = with_change(name, change)
    with pytest.raises(tf.errors.InvalidArgumentError):
        reference.lstm_sequence(**folded(
            {n: tf.constant(v) for n, v in args.items()},
            "layer_norm_weights"))


def test_every_projected_case_is_valid_unchanged():
    """The projected cases' base is accepted: each case fails by its
    change alone."""
    args = good_args(projected=True)
    output, h_n, c_n = ops.lstm_sequence(**folded(args))
    assert output.shape == (B, T, P) and h_n.shape == (B, P)
    assert c_n.shape == (B, H)


GRAD_INPUTS = ["x", "h0", "c0", "kernel", "recurrent_kernel",
               "sequence_length", "output", "gates", "cell", "d_output",
               "d_h_n", "d_c_n", "recurrent_mask", "peephole", "zoneout_h",
               "zoneout_c", *LAYER_NORM, "projection_kernel"]


@pytest.mark.parametrize("projected", [False, True])
@pytest.mark.parametrize("bad", ["output", "gates", "cell", "d_output",
                                 "d_h_n", "d_c_n", "sequence_length",
                                 "recurrent_mask", "peephole", "zoneout_c",
                                 "gain_x", "shift_c"])
def test_grad_kernel_rejects_bad_saved_tensors(bad, projected):
    args = good_args(projected)
    output, h_n, c_n, gates, cell = library.ops.tfrnn_lstm(
        *[args[n] for n in SEQUENCE_INPUTS])
    grad_args = dict(args, output=output.numpy(), gates=gates.numpy(),
                     cell=cell.numpy(), d_output=output.numpy(),
                     d_h_n=h_n.numpy(), d_c_n=c_n.numpy())
    if bad == "sequence_length":
        grad_args[bad] = np.array([4, 9, 0], np.int32)
    else:
        grad_args[bad] = grad_args[bad][..., :-1]
    specs = [tf.TensorSpec(None, tf.int32 if n == "sequence_length"
                           else tf.float32) for n in GRAD_INPUTS]

    @tf.function(input_signature=specs)
    def raw(*a):
        return library.ops.tfrnn_lstm_grad(*a)[0]

    with pytest.raises(tf.errors.InvalidArgumentError, match=bad):
        raw(*[grad_args[n] for n in GRAD_INPUTS])


@pytest.mark.parametrize("name,change", [
    ("x", lambda a: a[:, None]), ("h", lambda a: a[:-1]),
    ("c", lambda a: a[:, :-1]), ("bias", lambda a: a[:-2]),
    ("kernel", lambda a: a[:-1])])
def test_step_rejects(name, change):
    args = good_args()
    step = dict(x=args["x"][:, 0], h=args["h0"], c=args["c0"],
                kernel=args["kernel"],
                recurrent_kernel=args["recurrent_kernel"], bias=args["bias"])
    step[name] = change(step[name])
    specs = [tf.TensorSpec(None, tf.float32)] * 14
    none = np.zeros([0], np.float32)  # no option

    @tf.function(input_signature=specs)
    def raw(*a):
        return library.ops.tfrnn_lstm_step(*a)[0]

    with pytest.raises(tf.errors.InvalidArgumentError):
        ops.lstm_step(**step)
    with pytest.raises(tf.errors.InvalidArgumentError):
        raw(*step.values(), *[none] * 8)


def test_int64_lengths_out_of_int32_range_are_rejected_not_wrapped():
    args = with_change("sequence_length", np.array([4, 2**32 + 1, 0], np.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="sequence_length"):
        ops.lstm_sequence(**folded(args))
    ok = with_change("sequence_length", np.array([4, 2, 0], np.int64))
    ops.lstm_sequence(**folded(ok))


def test_nan_and_inf_inputs_propagate_without_crashing():
    args = good_args()
    args["x"] = args["x"].copy()
    args["x"][0, 1, 0] = np.nan
    args["x"][1, 0, 1] = np.inf
    output, h_n, _ = ops.lstm_sequence(**folded(args))
    assert np.isnan(output[0, 1:]).all()
    assert np.isfinite(output[2]).all()  # an empty row never saw the input


@pytest.mark.parametrize("kwargs,name", [
    (dict(cell_clip=-1.0), "cell_clip"), (dict(cell_clip=0), "cell_clip"),
    (dict(cell_clip="3"), "cell_clip"), (dict(zoneout_h=1.5), "zoneout_h"),
    (dict(zoneout_c=-0.25), "zoneout_c"),
    (dict(layer_norm_epsilon=0.0), "layer_norm_epsilon"),
    (dict(layer_norm_epsilon=None), "layer_norm_epsilon"),
    (dict(layer_norm=(1.0, 1.0)), "layer_norm")])
def test_wrapper_rejects_bad_option_numbers(kwargs, name):
    args = dict(folded(good_args()), **kwargs)
    with pytest.raises(tf.errors.InvalidArgumentError, match=name):
        ops.lstm_sequence(**args)


def test_kernel_rejects_a_bad_layer_norm_epsilon():
    args = good_args()
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="layer_norm_epsilon"):
        library.ops.tfrnn_lstm(*[args[n] for n in SEQUENCE_INPUTS],
                               layer_norm_epsilon=-1.0)


@pytest.mark.parametrize("name,value", [
    ("peephole", np.zeros((3, H - 1), np.float32)),
    ("zoneout_h", np.zeros((B, 1, H + 1), np.float32)),
    ("zoneout_c", np.full((B, 1, H), 2.0, np.float32)),
    ("gain_x", np.ones(4 * H + 1, np.float32)),
    ("shift_c", np.zeros([0], np.float32)),
    ("projection_kernel", np.ones((H, 0), np.float32)),
    # a projection [H, P] where h and recurrent_kernel are H wide
    ("recurrent_kernel", np.ones((H, P), np.float32))])
def test_step_kernel_rejects_bad_options(name, value):
    args = good_args()
    step = dict(x=args["x"][:, 0], h=args["h0"], c=args["c0"],
                kernel=args["kernel"],
                recurrent_kernel=args["recurrent_kernel"], bias=args["bias"],
                peephole=args["peephole"], zoneout_h=np.float32(0.5),
                zoneout_c=np.zeros((B, 1, H), np.float32),
                **{k: args[k] for k in LAYER_NORM},
                projection_kernel=args["projection_kernel"])
    if name == "recurrent_kernel":
        step["projection_kernel"] = value
    else:
        step[name] = value
    with pytest.raises(tf.errors.InvalidArgumentError, match=name):
        library.ops.tfrnn_lstm_step(**step)
