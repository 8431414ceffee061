"""The registered gradients of the fused ops, one factory for every cell.

Every cell's ops follow one layout (custom_ops/binding/op_kernels.h):
  Tfrnn<Cell>      x, states, kernel, recurrent_kernel, bias,
                   sequence_length, recurrent_mask, options
                   -> output, final states, saved (if any), cell (LSTM)
  Tfrnn<Cell>Grad  x, states, kernel, recurrent_kernel, sequence_length,
                   output, saved, cell, d_output, d_final states,
                   recurrent_mask, options -> d(x, states, kernel,
                   recurrent_kernel, bias), the options' gradients
  Tfrnn<Cell>Step  x, states, kernel, recurrent_kernel, bias, options
                   -> new states, saved (if any)
so one gradient per op kind serves every cell, given the cell's facts
(tfrnn/cells.py) and its options (name, has a gradient), in input order.
"""

import tensorflow as tf
from tensorflow.python.framework import op_def_registry

from tfrnn.ops.inputs import zeros_if_none
from tfrnn.ops.loader import library


def _attr_names(op):
    """The attributes the op's registration declares (eager mode's
    recorded ops carry no node_def)."""
    return [attr.name for attr in op_def_registry.get(op.type).attr]


def _grad_attrs(op):
    """The op's attributes that its Grad op takes too."""
    return {name: op.get_attr(name) for name in _attr_names(op)
            if name not in ("T", "is_training")}


def _option_gradients(options, gradients):
    """The option inputs' gradients: None where an option has none."""
    given = iter(gradients)
    return [next(given) if has_gradient else None
            for _, has_gradient in options]


def _fused(op_type, suffix=""):
    """The library's Python function of Tfrnn<Cell><suffix>."""
    snake = "".join("_" + c.lower() if c.isupper() else c
                    for c in op_type + suffix).lstrip("_")
    return getattr(library.ops, snake)


def sequence_gradient(cell, options=()):
    """The gradient of cell.op through its Grad op. An inference-mode
    forward kept nothing for the backward: it is run again in training
    mode (correct, at the cost of one more forward)."""
    n = cell.states

    def gradient(op, d_output, *d_rest):
        x, states = op.inputs[0], list(op.inputs[1:1 + n])
        kernel, recurrent, _, lengths, mask = op.inputs[1 + n:6 + n]
        option_inputs = list(op.inputs[6 + n:])
        outputs = list(op.outputs)
        attrs = _grad_attrs(op)
        if "is_training" in _attr_names(op) and \
                not op.get_attr("is_training"):
            outputs = _fused(op.type)(*op.inputs, is_training=True, **attrs)
        output, finals, saved = outputs[0], outputs[1:1 + n], outputs[1 + n:]
        d_finals = [zeros_if_none(d, t) for d, t in zip(d_rest, finals)]
        grads = _fused(op.type, "Grad")(
            x, *states, kernel, recurrent, lengths, output, *saved,
            zeros_if_none(d_output, output), *d_finals, mask,
            *option_inputs, **attrs)
        # none for sequence_length and recurrent_mask
        return (list(grads[:4 + n]) + [None, None]
                + _option_gradients(options, grads[4 + n:]))

    return gradient


def step_gradient(cell, options=()):
    """The gradient of cell.op + "Step": the sequence gradient, T = 1."""
    n = cell.states

    def gradient(op, d_h_new, *d_rest):
        x, states = op.inputs[0], list(op.inputs[1:1 + n])
        kernel, recurrent = op.inputs[1 + n:3 + n]
        option_inputs = list(op.inputs[4 + n:])
        h_new, c_new = op.outputs[0], op.outputs[1:n]
        saved = [s[None] for s in op.outputs[n:n + (cell.saved > 0)]]
        d_h_new = zeros_if_none(d_h_new, h_new)
        # The sequence's cell output holds c_new; its d_c_n takes c's.
        d_c = [zeros_if_none(d, c) for d, c in zip(d_rest, c_new)]
        ones = tf.ones(tf.shape(x)[:1], tf.int32)
        grads = _fused(op.type[:-len("Step")], "Grad")(
            x[:, None], *states, kernel, recurrent, ones, h_new[:, None],
            *saved, *[c[:, None] for c in c_new], d_h_new[:, None],
            tf.zeros_like(d_h_new), *d_c, tf.zeros([0], x.dtype),
            *option_inputs, **_grad_attrs(op))
        return ([grads[0][:, 0]] + list(grads[1:4 + n])
                + _option_gradients(options, grads[4 + n:]))

    return gradient


def register_gradients(cell, options=()):
    """Registers the gradients of cell.op and cell.op + "Step"."""
    tf.RegisterGradient(cell.op)(sequence_gradient(cell, options))
    tf.RegisterGradient(cell.op + "Step")(step_gradient(cell, options))
