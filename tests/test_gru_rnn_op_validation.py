"""Every bad input to the GRU ops is an InvalidArgumentError naming the
argument: through the wrapper, through the raw kernel with unknown shapes
(run-time checks only), and through the pure-TF fallback."""

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


def good_args():
    p = make_problem(np.random.default_rng(0), B, T, I, H, kind="gru")
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
    "bias flat": ("bias", lambda a: a.reshape(-1), "bias"),
    "bias rows": ("bias", lambda a: a[:1], "bias"),
    "sequence_length above T": ("sequence_length",
                                lambda a: np.array([4, T + 1, 0], np.int32),
                                "sequence_length"),
    "sequence_length size": ("sequence_length", lambda a: a[:2],
                             "sequence_length"),
    "recurrent_mask batch": ("recurrent_mask", lambda a: a[:2],
                             "recurrent_mask"),
}


def changed(case):
    name, change, _ = CASES[case]
    args = good_args()
    args[name] = change(args[name])
    return args


@pytest.mark.parametrize("case", sorted(CASES))
def test_wrapper_and_kernel_reject(case):
    args = changed(case)
    with pytest.raises(tf.errors.InvalidArgumentError, match=CASES[case][2]):
        ops.gru_sequence(**args)

    specs = [tf.TensorSpec(None, tf.int32 if n == "sequence_length"
                           else tf.float32) for n in ORDER]

    @tf.function(input_signature=specs)
    def raw(*a):
        return library.ops.tfrnn_gru(*a)[0]

    with pytest.raises(tf.errors.InvalidArgumentError, match=CASES[case][2]):
        raw(*[args[n] for n in ORDER])
    with pytest.raises(tf.errors.InvalidArgumentError):
        reference.gru_sequence(**{n: tf.constant(args[n]) for n in ORDER})


@pytest.mark.parametrize("bad", ["output", "reserve", "d_output", "d_h_n",
                                 "recurrent_mask"])
def test_grad_kernel_rejects_bad_saved_tensors(bad):
    args = good_args()
    output, h_n, reserve = library.ops.tfrnn_gru(*[args[n] for n in ORDER])
    grad = dict(args, output=output.numpy(), reserve=reserve.numpy(),
                d_output=output.numpy(), d_h_n=h_n.numpy())
    grad[bad] = grad[bad][..., :-1]
    names = ["x", "h0", "kernel", "recurrent_kernel", "sequence_length",
             "output", "reserve", "d_output", "d_h_n", "recurrent_mask"]
    specs = [tf.TensorSpec(None, tf.int32 if n == "sequence_length"
                           else tf.float32) for n in names]

    @tf.function(input_signature=specs)
    def raw(*a):
        return library.ops.tfrnn_gru_grad(*a)[0]

    with pytest.raises(tf.errors.InvalidArgumentError, match=bad):
        raw(*[grad[n] for n in names])


def test_step_rejects_bad_state():
    args = good_args()
    with pytest.raises(tf.errors.InvalidArgumentError, match="h"):
        ops.gru_step(args["x"][:, 0], args["h0"][:-1], args["kernel"],
                     args["recurrent_kernel"], args["bias"])
