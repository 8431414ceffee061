"""What an export's serving signatures share, and the tracing of a
model's own (`serving_module`). A model that exports with string
signatures (the zoo's) declares them: `model.serving_signatures(**options)`
returns (a tf.Module holding what the signatures capture, {signature name:
tf.function}, warmup requests [(signature name, example inputs)]); this
module traces them with tfrnn's ops lowered to stock TensorFlow
(`tfrnn.ops.stock_ops_only`). It imports no model.
"""

import tensorflow as tf

from tfrnn.data.vocab import PAD
from tfrnn.ops import stock_ops_only

STRINGS = tf.TensorSpec([None], tf.string)
SCALAR_INT = tf.TensorSpec([], tf.int32)
MAX_BEAM_WIDTH = 64


def signature_holder(model, *vocabularies):
    """A tf.Module tracking what the signatures capture. It tracks the
    tf.Variables under Keras's variables: tracking the Keras wrappers saves
    copies that a TF1-style loader (TF Serving, saved_model_cli) restores
    while the functions read the originals."""
    module = tf.Module()
    module.model_variables = [getattr(v, "value", v) for v in model.variables]
    module.vocabularies = list(vocabularies)
    return module


def left_padded(ragged_ids):
    """Ragged ids -> dense [B, P], each row's ids at the right end."""
    lengths = tf.cast(ragged_ids.row_lengths(), tf.int32)
    dense = ragged_ids.to_tensor(default_value=PAD)
    flipped = tf.reverse_sequence(dense, lengths, seq_axis=1, batch_axis=0)
    return tf.reverse(flipped, axis=[1])


def check(condition, message):
    """An in-graph check of a request: InvalidArgument with `message`."""
    return tf.debugging.Assert(condition, [message])


def has_signatures(model):
    """Whether the model declares its own serving signatures."""
    return callable(getattr(model, "serving_signatures", None))


def serving_module(model, **options):
    """(module, {name: concrete function}, warmup requests) of a model that
    declares its signatures, every function traced with stock ops only."""
    if not has_signatures(model):
        raise TypeError(f"no serving signatures for {type(model).__name__}: "
                        f"a model declares them with a serving_signatures"
                        f"(**options) method (the zoo's models do)")
    if not model.built:
        raise ValueError("build the model (call it once) before exporting "
                         "it")
    with stock_ops_only():
        holder, functions, warmup = model.serving_signatures(**options)
        concrete = {name: fn.get_concrete_function()
                    for name, fn in functions.items()}
    return holder, concrete, warmup
