"""Lazy loading of the compiled op library, with a pure-TensorFlow fallback.

The library is loaded on first use, not at import, so importing tfrnn stays
cheap and a missing or mismatched library never breaks an import. When it
cannot be used (not built, built for another TensorFlow, fails to load, no
ISA level this CPU runs, or TFRNN_DISABLE_CUSTOM_OPS=1) callers get None
and use the pure-TF reference; one warning says why. The pattern follows
TensorFlow Addons' LazySO.

setup.py builds one library per ISA level (the building CPU's best and the
portable x86-64-v3 baseline) and lists them, best first, in the build
record; the first whose CPU flags this CPU has is loaded, so a build shared
with an older machine runs there instead of dying with SIGILL.
TFRNN_ISA=LEVEL forces a level (the tests run every level the CPU has).
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
ISA_ENV = "TFRNN_ISA"


def cpu_flags():
    """This CPU's feature flags (/proc/cpuinfo), or None where unknown."""
    try:
        with open("/proc/cpuinfo") as f:
            return set(next(l for l in f if l.startswith("flags")).split())
    except (OSError, StopIteration):
        return None


def choose_level(levels, flags, forced=None):
    """(the level entry to load, or None; why not, or None) from the build
    record's levels (best first), the CPU's flags (None: unknown, take the
    best) and a forced level name."""
    if forced:
        chosen = [lv for lv in levels if lv["level"] == forced]
        if not chosen:
            names = ", ".join(lv["level"] for lv in levels)
            return None, f"{ISA_ENV}={forced} is not built (built: {names})"
        missing = sorted(set(chosen[0]["cpu_flags"]) - (flags or set()))
        if flags is not None and missing:
            return None, (f"{ISA_ENV}={forced} needs CPU flags this CPU "
                          f"lacks: {', '.join(missing)}")
        return chosen[0], None
    for level in levels:
        if flags is None or set(level["cpu_flags"]) <= flags:
            return level, None
    return None, ("no ISA level of the op library runs on this CPU (built: "
                  + ", ".join(f"{lv['level']} ({' '.join(lv['cpu_flags'])})"
                              for lv in levels) + ")")


class CustomOpLibrary:
    """Loads one op library once; `.ops` is the module or None."""

    def __init__(self, directory, library_name=LIBRARY_NAME):
        self._directory = directory
        self._path = os.path.join(directory, library_name)
        self._info_path = os.path.join(directory, BUILD_INFO_NAME)
        self.level = None  # the ISA level loaded
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
        path, why = self._level_path()
        if path is None:
            return None, why
        try:
            return tf.load_op_library(path), None
        except (tf.errors.NotFoundError, OSError) as err:
            return None, f"loading {path} failed: {err}"

    def _level_path(self):
        """(the library of the ISA level to load, or None; why not)."""
        levels = self.build_info().get("levels")
        if not levels:  # a record from before the levels: one library
            return self._path, None
        level, why = choose_level(levels, cpu_flags(),
                                  os.environ.get(ISA_ENV) or None)
        if level is None:
            return None, why
        self.level = level["level"]
        path = os.path.join(self._directory, level["library"])
        if not os.path.exists(path):
            return None, (f"{path} is not built; reinstall with "
                          "`pip install -e .` to build it")
        return path, None

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
