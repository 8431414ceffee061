"""When a graph must not hold tfrnn's custom ops, so that every tfrnn op
lowers to stock TensorFlow (same weights, same numbers) while it is traced:
the inference lowering (tfrnn.ops.inference) in an export, the pure-TF
reference under XLA (its gradients are TensorFlow's autodiff). Exports:

- under `stock_ops_only()` (tfrnn.export traces its signatures there);
- while `tf.saved_model.save` traces a function (TensorFlow's save
  context): TF Serving, and any TensorFlow without tfrnn, cannot load a
  custom op;
- while Keras's own export (`model.export`, `keras.export.ExportArchive`)
  traces its endpoints, which it does before `tf.saved_model.save` and
  without a hook: it is recognised by its frames on the stack.

And inside an XLA compilation (`tf.function(jit_compile=True)`, Keras's
`compile(jit_compile=True)`): XLA cannot compile a custom op.

A function traced earlier, outside all of these, keeps the fused op; saving
it is refused by `tfrnn.export.check_stock_ops` (export_for_serving runs
it) and can be traced again under `stock_ops_only()`.
"""

import contextlib
import sys
import threading

import tensorflow as tf
from tensorflow.python.ops import control_flow_util
from tensorflow.python.saved_model import save_context

_stock = threading.local()
# Modules whose frames on the stack mean "Keras is tracing an export".
_KERAS_EXPORT = "keras.src.export"


@contextlib.contextmanager
def stock_ops_only():
    """Within this block (in this thread) every tfrnn op runs its pure-TF
    reference: graphs traced here hold stock TensorFlow ops only, so a
    server without tfrnn's library (TF Serving) can load them. Same
    weights, same results."""
    previous = getattr(_stock, "active", False)
    _stock.active = True
    try:
        yield
    finally:
        _stock.active = previous


def _keras_is_exporting():
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(_KERAS_EXPORT):
            return True
        frame = frame.f_back
    return False


def must_lower():
    """True when the op being created must be stock TensorFlow."""
    return _lowering() is not None


def lowers_for_export():
    """True when the op being created is traced for an export (not for
    XLA): the inference lowering (tfrnn.ops.inference) serves it."""
    return _lowering() == "export"


def _lowering():
    """Why the op being created must be stock TensorFlow: "export", "xla",
    or None when it need not."""
    if getattr(_stock, "active", False):
        return "export"
    if tf.executing_eagerly():
        return None  # nothing is traced
    if save_context.in_save_context():
        return "export"
    if control_flow_util.GraphOrParentsInXlaContext(
            tf.compat.v1.get_default_graph()):
        return "xla"
    return "export" if _keras_is_exporting() else None
