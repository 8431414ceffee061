"""The LSTM's options are declared once (custom_ops/cells/lstm/
lstm_options.h); the op registrations it generates, the Python wrapper's
LSTM_OPTIONS and the gradients must agree with it."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import op_def_registry

from paths import ROOT
from tfrnn.ops import lstm as lstm_ops
from tfrnn.ops.loader import library

DECLARATION = os.path.join(ROOT, "custom_ops", "cells", "lstm",
                           "lstm_options.h")


def declared_options():
    """(name, has a gradient) of each X(...) in TFRNN_LSTM_OPTIONS."""
    text = open(DECLARATION).read()
    body = text[text.index("#define TFRNN_LSTM_OPTIONS(X)"):]
    body = body[:body.index("\n\n")]
    return tuple((name, kind == "TFRNN_GRADIENT") for name, kind in
                 re.findall(r"X\((\w+), (TFRNN_\w+)\)", body))


@pytest.fixture(scope="module")
def op_defs():
    assert library.ops is not None, library.unavailable_reason
    return {name: op_def_registry.get(name)
            for name in ("TfrnnLstm", "TfrnnLstmGrad", "TfrnnLstmStep")}


def test_python_lists_the_declared_options():
    assert len(declared_options()) == 8
    assert lstm_ops.LSTM_OPTIONS == declared_options()


@pytest.mark.parametrize("op", ["TfrnnLstm", "TfrnnLstmGrad",
                                "TfrnnLstmStep"])
def test_every_lstm_op_ends_with_the_option_inputs(op_defs, op):
    names = [arg.name for arg in op_defs[op].input_arg]
    assert tuple(names[-8:]) == tuple(n for n, _ in declared_options())


def test_the_grad_op_outputs_the_declared_option_gradients(op_defs):
    names = [arg.name for arg in op_defs["TfrnnLstmGrad"].output_arg]
    assert names[:6] == ["dx", "dh0", "dc0", "dkernel",
                         "drecurrent_kernel", "dbias"]
    assert names[6:] == ["d" + n for n, grad in declared_options() if grad]


def test_each_option_gradient_reaches_its_input():
    """Every option with a gradient gets one, shaped as it, through the
    registered gradient; the zoneouts get none."""
    rng = np.random.default_rng(0)
    B, T, I, H, P = 2, 3, 4, 5, 3

    def var(*shape):
        return tf.Variable(rng.normal(size=shape).astype(np.float32) * 0.3)

    weights = dict(kernel=var(I, 4 * H), recurrent_kernel=var(P, 4 * H),
                   bias=var(4 * H))
    options = dict(peephole=var(3, H), projection=var(H, P),
                   layer_norm=(var(4 * H), var(4 * H), var(H), var(H)))
    x = tf.constant(rng.normal(size=(B, T, I)), tf.float32)
    h0, c0 = tf.zeros([B, P]), tf.zeros([B, H])
    zoneout = tf.Variable(0.3)
    with tf.GradientTape() as tape:
        out, _, _ = lstm_ops.lstm_sequence(x, h0, c0, **weights,
                                           zoneout_h=zoneout, **options)
        loss = tf.reduce_sum(out ** 2)
    flat = [options["peephole"], *options["layer_norm"],
            options["projection"]]
    grads = tape.gradient(loss, flat + [zoneout])
    for variable, grad in zip(flat, grads):
        assert grad is not None and grad.shape == variable.shape
        assert float(tf.reduce_sum(tf.abs(grad))) > 0
    assert grads[-1] is None
