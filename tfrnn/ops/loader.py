"""Lazy loading of the compiled op library, with a pure-TensorFlow fallback.

The library is loaded on first use, not at import, so importing tfrnn stays
cheap and a missing or mismatched library never breaks an import. When it
cannot be used (not built, built for another TensorFlow, fails to load, or
TFRNN_DISABLE_CUSTOM_OPS=1) callers get None and use the pure-TF reference;
one warning says why. The pattern follows TensorFlow Addons' LazySO.
"""

import json
import os
import threading
import warnings

import tensorflow as tf

from tfrnn.ops import inference, reference
from tfrnn.ops.lowering import lowers_for_export, must_lower

LIBRARY_NAME = "_tfrnn_ops.so"
BUILD_INFO_NAME = "_build_info.json"
DISABLE_ENV = "TFRNN_DISABLE_CUSTOM_OPS"


class CustomOpLibrary:
    """Loads one op library once; `.ops` is the module or None."""

    def __init__(self, directory, library_name=LIBRARY_NAME):
        self._path = os.path.join(directory, library_name)
        self._info_path = os.path.join(directory, BUILD_INFO_NAME)
        self._lock = threading.Lock()
        self._loaded = False
        self._ops = None
        self.unavailable_reason = None

    @property
    def ops(self):
        with self._lock:
            if not self._loaded:
                self._ops, self.unavailable_reason = self._load()
                self._loaded = True
                if self.unavailable_reason is not None:
                    warnings.warn(
                        "tfrnn: using the pure-TensorFlow LSTM (same results, "
                        "slower): " + self.unavailable_reason,
                        RuntimeWarning, stacklevel=3)
            return self._ops

    def _load(self):
        if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
            return None, f"{DISABLE_ENV} is set"
        if not os.path.exists(self._path):
            return None, (f"{self._path} is not built; reinstall with "
                          "`pip install -e .` to build it")
        built_for = self.build_info().get("tensorflow_version")
        if built_for != tf.__version__:
            return None, (f"the op library was built for TensorFlow "
                          f"{built_for}, this is {tf.__version__}; rebuild "
                          "with `pip install -e .`")
        try:
            return tf.load_op_library(self._path), None
        except (tf.errors.NotFoundError, OSError) as err:
            return None, f"loading {self._path} failed: {err}"

    def build_info(self):
        """The build record written by setup.py ({} when absent)."""
        try:
            with open(self._info_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}


library = CustomOpLibrary(os.path.dirname(os.path.abspath(__file__)))


def custom_ops_available():
    """True when the compiled fused-LSTM library is loaded and in use."""
    return library.ops is not None


def active_ops():
    """The compiled ops to call now, or None for the pure-TF reference (no
    library, or a graph that must hold stock ops only: tfrnn.ops.lowering)."""
    if must_lower():
        return None
    return library.ops


def stock_ops():
    """The pure-TF module to run when active_ops() is None: the inference
    lowering for an export, else the reference (no library, XLA)."""
    return inference if lowers_for_export() else reference
