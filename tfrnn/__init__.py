"""tfrnn: recurrent networks for TensorFlow / Keras 3 on fused LSTM, GRU and
Elman RNN ops.

Importing tfrnn registers every tfrnn layer and zoo model with Keras, so
`keras.models.load_model` reads any .keras file that holds them."""


import importlib

__version__ = "0.1.0"
__all__ = ["data", "layers", "ops", "zoo", "training", "export", "interop",
           "distribute"]
# Imported on first use (`tfrnn.training.MaskedSparseCategoricalCrossentropy`
# after a plain `import tfrnn`), so `import tfrnn` stays light.
_ON_FIRST_USE = ("training", "export", "interop", "distribute")
# Without TensorFlow only the framework-free modules load (tfrnn.cells,
# tfrnn.gpu_core: the GPU check runs them on machines without it); the
# rest says what to install when first asked for.
_NEEDS_TENSORFLOW = ("data", "layers", "ops", "zoo") + _ON_FIRST_USE

try:
    import tensorflow  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    _missing_tensorflow = err
else:
    _missing_tensorflow = None
    from tfrnn import data, layers, ops, zoo  # noqa: F401


def __getattr__(name):
    if name in _NEEDS_TENSORFLOW and _missing_tensorflow is not None:
        raise ImportError(
            "tfrnn needs TensorFlow 2.21: pip install 'tfrnn[cpu]' "
            "(tensorflow-cpu) or 'tfrnn[gpu]' (tensorflow with CUDA)."
        ) from _missing_tensorflow
    if name in _ON_FIRST_USE:
        return importlib.import_module(f"tfrnn.{name}")
    raise AttributeError(f"module 'tfrnn' has no attribute {name!r}")
