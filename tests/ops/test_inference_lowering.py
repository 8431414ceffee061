"""The inference lowering (tfrnn.ops.inference), which exports trace, holds
the fused op's contract and numbers: every cell, every LSTM option, masks,
reverse, per-row lengths (empty rows, empty batches, empty sequences), and
step counts on and off the unrolling's multiple."""

import numpy as np
import pytest
import tensorflow as tf

from rnn_problems import make_problem
from tfrnn import ops
from tfrnn.export import non_stock_ops
from tfrnn.ops import inference, loader, reference

TOLERANCE = dict(rtol=1e-6, atol=1e-6)
OPS = {"lstm": ops.lstm_sequence, "gru": ops.gru_sequence,
       "rnn_tanh": ops.rnn_sequence, "rnn_relu": ops.rnn_sequence}


def lowered(fn, *args, **kwargs):
    """fn traced as an export traces it (stock ops only) and run."""
    @tf.function(autograph=False)
    def traced():
        with ops.stock_ops_only():
            assert loader.stock_ops() is inference
            return fn(*args, **kwargs)
    graph_ops = {op.type for op in
                 traced.get_concrete_function().graph.get_operations()}
    assert not non_stock_ops(graph_ops)
    return traced()


def assert_same(fn, *args, **kwargs):
    """The lowering's outputs and final states equal the fused op's."""
    assert ops.custom_ops_available()
    fused = fn(*args, **kwargs)
    stock = lowered(fn, *args, **kwargs)
    assert len(fused) == len(stock)
    for a, b in zip(stock, fused):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, **TOLERANCE)


def call(p, **options):
    """(the kind's op, its positional inputs, its keyword arguments)."""
    kwargs = dict(options)
    if p.kind.startswith("rnn"):
        kwargs["nonlinearity"] = p.kind[4:]
    args = [tf.constant(a) for a in p.inputs]
    return OPS[p.kind], args + [p.lengths], kwargs


LENGTHS = {"full": None, "mixed": "mixed", "all empty": "zeros"}


def lengths_for(pattern, batch, time):
    if pattern is None:
        return None
    if pattern == "zeros":
        return [0] * batch
    return [(time * k) // max(batch - 1, 1) for k in range(batch)][::-1]


@pytest.mark.parametrize("kind", sorted(OPS))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("pattern", sorted(LENGTHS))
@pytest.mark.parametrize("time", [1, 8, 13])
def test_every_cell_direction_and_length_pattern(kind, reverse, pattern,
                                                 time):
    batch = 4
    p = make_problem(np.random.default_rng(time), batch, time, 3, 5,
                     kind=kind,
                     lengths=lengths_for(LENGTHS[pattern], batch, time))
    fn, args, kwargs = call(p, reverse=reverse)
    assert_same(fn, *args, **kwargs)


@pytest.mark.parametrize("kind", sorted(OPS))
@pytest.mark.parametrize("batch, time", [(0, 5), (3, 0), (0, 0)])
def test_empty_batches_and_sequences(kind, batch, time):
    p = make_problem(np.random.default_rng(0), batch, time, 3, 4, kind=kind)
    fn, args, kwargs = call(p)
    assert_same(fn, *args, **kwargs)


@pytest.mark.parametrize("kind", sorted(OPS))
def test_recurrent_masks(kind):
    rng = np.random.default_rng(1)
    p = make_problem(rng, 3, 11, 2, 6, kind=kind, lengths=[11, 4, 0])
    mask = (rng.random((3, 6)) > 0.4).astype("f") / 0.6
    fn, args, kwargs = call(p, recurrent_mask=tf.constant(mask),
                            reverse=True)
    assert_same(fn, *args, **kwargs)


def lstm_options(rng, batch, time, units, hidden):
    """Every LSTM option, named as tfrnn.ops.lstm_sequence takes them."""
    def uniform(*shape):
        return tf.constant(rng.random(shape).astype("f"))

    def normal(*shape):
        return tf.constant(rng.standard_normal(shape).astype("f") * 0.3)

    return {
        "peephole": normal(3, units),
        "cell_clip": 0.4,
        "layer_norm": (1 + normal(4 * units), 1 + normal(4 * units),
                       1 + normal(units), normal(units)),
        "zoneout scalars": dict(zoneout_h=0.3, zoneout_c=0.2),
        "zoneout per step": dict(zoneout_h=uniform(batch, time, hidden),
                                 zoneout_c=uniform(batch, time, units)),
        "projection": normal(units, hidden),
    }


COMBINATIONS = [
    ("peephole",), ("cell_clip",), ("layer_norm",), ("zoneout scalars",),
    ("zoneout per step",), ("projection",), ("layer_norm", "projection"),
    ("peephole", "cell_clip", "layer_norm", "zoneout per step"),
    ("peephole", "cell_clip", "layer_norm", "zoneout per step",
     "projection"),
]


@pytest.mark.parametrize("names", COMBINATIONS, ids="+".join)
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_options(names, reverse):
    rng = np.random.default_rng(len(names))
    batch, time, units = 3, 10, 5
    hidden = 3 if "projection" in names else units
    p = make_problem(rng, batch, time, 4, units, hidden=hidden,
                     lengths=[10, 3, 0])
    options = lstm_options(rng, batch, time, units, hidden)
    kwargs = {}
    for name in names:
        value = options[name]
        kwargs.update(value if isinstance(value, dict)
                      else {name.replace(" ", "_"): value})
    mask = (rng.random((batch, hidden)) > 0.3).astype("f") / 0.7
    fn, args, _ = call(p)
    assert_same(fn, *args, reverse=reverse, recurrent_mask=tf.constant(mask),
                **kwargs)


def test_bad_inputs_raise_as_the_fused_op_does():
    """The lowering runs the reference's checks: the same InvalidArgument."""
    p = make_problem(np.random.default_rng(0), 2, 4, 3, 4, lengths=[5, 1])
    fn, args, _ = call(p)
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside"):
        lowered(fn, *args)


def test_xla_keeps_the_reference():
    """Under XLA the reference (autodiff's gradients) serves, not this."""
    seen = []

    @tf.function(jit_compile=True)
    def traced(x):
        seen.append(loader.stock_ops())
        return x

    traced(tf.zeros([1]))
    assert seen == [reference]


def test_checks_that_tracing_can_decide_leave_no_op():
    """With the weights' shapes known, a traced step keeps one runtime
    assertion (h's batch against x's), not one per input: a decoding loop
    runs it every step."""
    kernel, recurrent = tf.zeros([3, 5]), tf.zeros([5, 5])

    @tf.function(input_signature=[tf.TensorSpec([None, 3]),
                                  tf.TensorSpec([None, 5])])
    def step(x, h):
        with ops.stock_ops_only():
            return ops.rnn_step(x, h, kernel, recurrent, tf.zeros([5]))

    graph = step.get_concrete_function().graph
    asserts = [op for op in graph.get_operations() if op.type == "Assert"]
    assert len(asserts) == 1
    np.testing.assert_allclose(step(tf.ones([2, 3]), tf.ones([2, 5])),
                               np.zeros([2, 5]))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="h must have shape"):
        step(tf.ones([2, 3]), tf.ones([3, 5]))


def test_a_shape_that_tracing_can_refuse_is_refused_there():
    """A static mismatch raises while tracing, with the op's message."""
    @tf.function
    def step():
        with ops.stock_ops_only():
            return ops.rnn_step(tf.zeros([2, 3]), tf.zeros([2, 5]),
                                tf.zeros([4, 5]), tf.zeros([5, 5]),
                                tf.zeros([5]))

    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="kernel must have shape"):
        step.get_concrete_function()
