"""ctypes binding of the GPU core's C ABI (gpu/capi.cc).

Framework-free: arguments are raw addresses (numpy's ``a.ctypes.data`` for
the host build, torch's ``t.data_ptr()`` on a GPU) or 0 for none, so the
host tests (tests/gpu/test_gpu_core.py) and the GPU check
(benchmarks/gpu_check.py) share it. Needs only the standard library and
tfrnn.cells: it loads without TensorFlow.
"""

import ctypes

from tfrnn.cells import TORCH_MODES

# The C ABI's cell name -> (gates, saved values per unit, bias rows, has a
# cell state).
CELLS = {name: (cell.gates, cell.saved, cell.bias_rows, cell.has_cell_state)
         for name, cell in TORCH_MODES.items()}
_P = ctypes.c_void_p
_I64 = ctypes.c_int64
_INT = ctypes.c_int
_DIMS = [_INT, _INT, _I64, _I64, _I64, _I64, _I64]  # dtype, reverse, B..max
FORWARD_POINTERS = ("x", "h0", "c0", "kernel", "recurrent_kernel", "bias",
                    "lengths", "recurrent_mask", "output", "h_n", "c_n",
                    "saved", "cell_states", "workspace", "stream")
BACKWARD_POINTERS = ("x", "h0", "c0", "kernel", "recurrent_kernel",
                     "lengths", "recurrent_mask", "output", "saved",
                     "cell_states",
                     "d_output", "d_h_n", "d_c_n", "dx", "dh0", "dc0",
                     "dkernel", "drecurrent_kernel", "dbias", "dpeephole",
                     "workspace", "stream")


class LstmOptions(ctypes.Structure):
    """The LSTM's options of a call (TfrnnLstmOptions): addresses or 0 for
    off; a zoneout is one value, or [B,T,H] when its per_step is 1;
    cell_clip negative for none; layer_norm the addresses of gain_x, gain_h,
    gain_c, shift_c (all 0: off) and its epsilon; projection the address of
    W_proj [H,P] (0: off) and P (h, and zoneout_h per step, P wide)."""
    _fields_ = [("peephole", _P), ("zoneout_h", _P), ("zoneout_c", _P),
                ("zoneout_h_per_step", _INT), ("zoneout_c_per_step", _INT),
                ("cell_clip", ctypes.c_double), ("layer_norm", _P * 4),
                ("layer_norm_epsilon", ctypes.c_double),
                ("projection", _P), ("projection_units", _I64)]


def _by_reference(value):
    """A struct or array argument as its pointer (None: a null one)."""
    if value is None or isinstance(value, ctypes.Array):
        return value  # ctypes passes an array as its address
    return ctypes.byref(value)


class GpuCoreError(RuntimeError):
    """A call of the core that returned an error code."""


class GpuCore:
    """The library at `path`; forward/backward take addresses by name."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        lib.tfrnn_gpu_last_error.restype = ctypes.c_char_p
        lib.tfrnn_gpu_workspace_bytes.restype = ctypes.c_size_t
        lib.tfrnn_gpu_workspace_bytes.argtypes = [ctypes.c_char_p, _INT, _INT,
                                                  _I64, _I64, _I64, _I64,
                                                  _INT, _I64]
        options = ctypes.POINTER(LstmOptions)
        lib.tfrnn_gpu_forward.argtypes = (
            [ctypes.c_char_p] + _DIMS + [_P] * len(FORWARD_POINTERS)
            + [options])
        lib.tfrnn_gpu_backward.argtypes = (
            [ctypes.c_char_p] + _DIMS + [_P] * len(BACKWARD_POINTERS)
            + [options, ctypes.POINTER(_P)])
        lib.tfrnn_gpu_find_outside_unit_interval.argtypes = [
            _INT, _P, _I64, _P, _P, ctypes.POINTER(_I64),
            ctypes.POINTER(ctypes.c_double)]
        lib.tfrnn_gpu_launch_shape.argtypes = [
            _I64, ctypes.POINTER(_I64), ctypes.POINTER(_I64)]
        self._lib = lib
        self.is_cuda = bool(lib.tfrnn_gpu_is_cuda_build())
        # The CUDA runtime linked, e.g. 12090 for 12.9 (0: the host build).
        self.runtime_version = lib.tfrnn_gpu_runtime_version()

    def workspace_bytes(self, cell, dtype_bytes, backward, dims,
                        layer_norm=False, projection_units=0):
        """Bytes of workspace a call needs; dims = (B, T, I, H);
        projection_units: P of the LSTM's projection (0: none)."""
        return self._lib.tfrnn_gpu_workspace_bytes(
            cell.encode(), dtype_bytes, int(backward), *dims,
            int(layer_norm), projection_units)

    def launch_shape(self, n):
        """(blocks, threads) of an element-wise kernel over n elements."""
        blocks, threads = _I64(), _I64()
        self._lib.tfrnn_gpu_launch_shape(n, ctypes.byref(blocks),
                                         ctypes.byref(threads))
        return blocks.value, threads.value

    def find_outside_unit_interval(self, dtype_bytes, values, n, scratch,
                                   stream=0):
        """(flat index, value) of the first of n values at address `values`
        outside [0, 1] (NaN too), or None; scratch: the address of 8
        bytes of device memory. The zoneout check of the GPU kernels."""
        index, value = _I64(), ctypes.c_double()
        code = self._lib.tfrnn_gpu_find_outside_unit_interval(
            dtype_bytes, values or None, n, scratch or None, stream or None,
            ctypes.byref(index), ctypes.byref(value))
        if code != 0:
            text = self._lib.tfrnn_gpu_last_error().decode()
            raise GpuCoreError(f"find_outside_unit_interval: {text} "
                               f"(code {code})")
        return None if index.value < 0 else (index.value, value.value)

    def forward(self, cell, dtype_bytes, reverse, dims, max_len,
                options=None, **ptrs):
        """options: an LstmOptions (lstm only) or None."""
        self._call(self._lib.tfrnn_gpu_forward, FORWARD_POINTERS, cell,
                   dtype_bytes, reverse, dims, max_len, ptrs, [options])

    def backward(self, cell, dtype_bytes, reverse, dims, max_len,
                 options=None, d_options=None, **ptrs):
        """d_options: the addresses of dgain_x, dgain_h, dgain_c, dshift_c
        and dprojection (0 where that option is off), or None."""
        gradients = None if d_options is None else (_P * 5)(*d_options)
        self._call(self._lib.tfrnn_gpu_backward, BACKWARD_POINTERS, cell,
                   dtype_bytes, reverse, dims, max_len, ptrs,
                   [options, gradients])

    def _call(self, fn, names, cell, dtype_bytes, reverse, dims, max_len,
              ptrs, structs):
        unknown = set(ptrs) - set(names)
        if unknown:
            raise TypeError(f"unknown arguments {sorted(unknown)}")
        code = fn(cell.encode(), dtype_bytes, int(reverse), *dims, max_len,
                  *[ptrs.get(n) or None for n in names],
                  *[_by_reference(s) for s in structs])
        if code != 0:
            text = self._lib.tfrnn_gpu_last_error().decode()
            raise GpuCoreError(f"{fn.__name__}: {text} (code {code})")
