"""tfrnn: recurrent networks for TensorFlow / Keras 3 on fused LSTM, GRU and
Elman RNN ops.

Importing tfrnn registers every tfrnn layer and zoo model with Keras, so
`keras.models.load_model` reads any .keras file that holds them."""

try:
    import tensorflow  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "tfrnn needs TensorFlow 2.21: pip install 'tfrnn[cpu]' (tensorflow-cpu)"
        " or 'tfrnn[gpu]' (tensorflow with CUDA)."
    ) from err

import importlib  # noqa: E402

from tfrnn import data, layers, ops, zoo  # noqa: E402

__version__ = "0.1.0"
__all__ = ["data", "layers", "ops", "zoo", "training", "export", "interop",
           "distribute"]
# Imported on first use (`tfrnn.training.MaskedSparseCategoricalCrossentropy`
# after a plain `import tfrnn`), so `import tfrnn` stays light.
_ON_FIRST_USE = ("training", "export", "interop", "distribute")


def __getattr__(name):
    if name in _ON_FIRST_USE:
        return importlib.import_module(f"tfrnn.{name}")
    raise AttributeError(f"module 'tfrnn' has no attribute {name!r}")
