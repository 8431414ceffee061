"""Every bad input to the GRU and Elman RNN ops (the one-state cells) is an
InvalidArgumentError naming the argument: through the wrapper, through the
raw kernel with unknown shapes (run-time checks only), and through the
pure-TF fallback."""

import numpy as np
import pytest
import tensorflow as tf

from tfrnn import ops
from tfrnn.ops import reference
from tfrnn.ops.loader import library
from rnn_problems import make_problem

B, T, I, H = 3, 4, 2, 5
ORDER = ["x", "h0", "kernel", "recurrent_kernel", "bias", "sequence_length",
         "recurrent_mask"]
# kind -> (wrapper, step wrapper, reference, raw op, raw grad op, the
# problem's kind, what the forward saves besides the outputs)
KINDS = {
    "gru": (ops.gru_sequence, ops.gru_step, reference.gru_sequence,
            "tfrnn_gru", "tfrnn_gru_grad", "gru", ["reserve"]),
    "rnn": (ops.rnn_sequence, ops.rnn_step, reference.rnn_sequence,
            "tfrnn_rnn", "tfrnn_rnn_grad", "rnn_tanh", []),
}
kinds = pytest.mark.parametrize("kind", sorted(KINDS))


def raw_op(name):
    return getattr(library.ops, name)


def good_args(kind):
    p = make_problem(np.random.default_rng(0), B, T, I, H,
                     kind=KINDS[kind][5])
    return dict(x=p.x, h0=p.states[0], kernel=p.kernel,
                recurrent_kernel=p.recurrent_kernel, bias=p.bias,
                sequence_length=np.array([4, 2, 0], np.int32),
                recurrent_mask=np.full((B, H), 1.25, np.float32))


CASES = {
    "x rank": ("x", lambda a: a[:, 0], "x"),
    "x features": ("x", lambda a: np.zeros((B, T, I + 1), "f"), "kernel"),
    "h0 batch": ("h0", lambda a: a[:2], "h0"),
    "kernel columns": ("kernel", lambda a: a[:, :-1], "kernel"),
    "recurrent_kernel": ("recurrent_kernel", lambda a: a[:, :-3],
                         "recurrent_kernel"),
    "bias rank": ("bias", lambda a: a.reshape(-1) if a.ndim == 2 else a[None],
                  "bias"),
    "bias rows": ("bias", lambda a: a[:1], "bias"),
    "sequence_length above T": ("sequence_length",
                                lambda a: np.array([4, T + 1, 0], np.int32),
                                "sequence_length"),
    "sequence_length size": ("sequence_length", lambda a: a[:2],
                             "sequence_length"),
    "recurrent_mask batch": ("recurrent_mask", lambda a: a[:2],
                             "recurrent_mask"),
}


def changed(kind, case):
    name, change, _ = CASES[case]
    args = good_args(kind)
    args[name] = change(args[name])
    return args


@kinds
@pytest.mark.parametrize("case", sorted(CASES))
def test_wrapper_and_kernel_reject(kind, case):
    args = changed(kind, case)
    with pytest.raises(tf.errors.InvalidArgumentError, match=CASES[case][2]):
        KINDS[kind][0](**args)

    specs = [tf.TensorSpec(None, tf.int32 if n == "sequence_length"
                           else tf.float32) for n in ORDER]

    @tf.function(input_signature=specs)
    def raw(*a):
        return raw_op(KINDS[kind][3])(*a)[0]

    with pytest.raises(tf.errors.InvalidArgumentError, match=CASES[case][2]):
        raw(*[args[n] for n in ORDER])
    with pytest.raises(tf.errors.InvalidArgumentError):
        KINDS[kind][2](**{n: tf.constant(args[n]) for n in ORDER})


@pytest.mark.parametrize("kind,bad", [
    (kind, bad) for kind in sorted(KINDS)
    for bad in ["output", *KINDS[kind][6], "d_output", "d_h_n",
                "recurrent_mask"]])
def test_grad_kernel_rejects_bad_saved_tensors(kind, bad):
    saved_names = KINDS[kind][6]
    args = good_args(kind)
    output, h_n, *saved = raw_op(KINDS[kind][3])(*[args[n] for n in ORDER])
    grad = dict(args, output=output.numpy(), d_output=output.numpy(),
                d_h_n=h_n.numpy(),
                **{n: t.numpy() for n, t in zip(saved_names, saved)})
    grad[bad] = grad[bad][..., :-1]
    names = ["x", "h0", "kernel", "recurrent_kernel", "sequence_length",
             "output", *saved_names, "d_output", "d_h_n", "recurrent_mask"]
    specs = [tf.TensorSpec(None, tf.int32 if n == "sequence_length"
                           else tf.float32) for n in names]

    @tf.function(input_signature=specs)
    def raw(*a):
        return raw_op(KINDS[kind][4])(*a)[0]

    with pytest.raises(tf.errors.InvalidArgumentError, match=bad):
        raw(*[grad[n] for n in names])


@kinds
def test_step_rejects_bad_state(kind):
    args = good_args(kind)
    with pytest.raises(tf.errors.InvalidArgumentError, match="h"):
        KINDS[kind][1](args["x"][:, 0], args["h0"][:-1], args["kernel"],
                     args["recurrent_kernel"], args["bias"])


def test_rnn_rejects_an_unknown_nonlinearity():
    args = good_args("rnn")
    for fn in (ops.rnn_sequence, reference.rnn_sequence):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="nonlinearity"):
            fn(**{n: tf.constant(args[n]) for n in ORDER},
               nonlinearity="sigmoid")
