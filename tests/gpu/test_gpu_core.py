"""The GPU core without a GPU: its host build against the CPU op.

custom_ops/gpu_build.py compiles the GPU core's sources (the walks of
gpu/walk.h, the element kernels, each cell's __host__ __device__
math, the workspace plan, the C ABI) as C++ with a host stand-in for
cuBLAS and the launches. Everything of the GPU path but the launches and
the GEMM library runs here, and must give the CPU op's results: outputs,
final states, saved values at the steps that ran, and every gradient, with
lengths (0 included), reverse, the recurrent mask, the LSTM's options
(peephole, cell clip, zoneout per step and as one value, layer norm, the
projection narrower and wider than H), odd sizes (B = 1, H not a multiple
of 32, T = 0, I = 0, B = 0) and the single step.
"""

import os
import sys

import numpy as np
import pytest

from tfrnn import gpu_core
from tfrnn.ops.loader import library

from paths import ROOT

sys.path.insert(0, os.path.join(ROOT, "custom_ops"))
import gpu_build  # noqa: E402

CELLS = sorted(gpu_core.CELLS)
# (B, T, I, H): odd sizes, a unit count past a warp, and the empty ones.
SHAPES = [(5, 7, 3, 13), (1, 4, 2, 33), (3, 0, 2, 5), (0, 3, 2, 4),
          (4, 5, 0, 6)]


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    path = gpu_build.build("host", str(tmp_path_factory.mktemp("gpu_core")))
    built = gpu_core.GpuCore(path)
    assert not built.is_cuda
    return built


@pytest.fixture(scope="module")
def cpu_ops():
    ops = library.ops
    assert ops is not None, library.unavailable_reason
    return ops


def addr(a):
    return 0 if a is None else a.ctypes.data


class Case:
    """A random problem of one cell: inputs, and upstream gradients."""

    def __init__(self, cell, shape, dtype, masked, seed, full=False,
                 options=False, layer_norm=False, projection=None):
        gates, saved, bias_rows, has_c = gpu_core.CELLS[cell]
        B, T, I, H = shape
        Hh = H if projection is None else projection  # h's width
        self.hidden = Hh
        rng = np.random.default_rng(seed)

        def rand(*s, scale=0.5):
            return (rng.standard_normal(s) * scale).astype(dtype)

        self.cell, self.shape, self.dtype = cell, shape, np.dtype(dtype)
        self.has_c, self.saved_width = has_c, saved * H
        self.x, self.h0 = rand(B, T, I), rand(B, Hh)
        self.c0 = rand(B, H) if has_c else None
        self.kernel = rand(I, gates * H)
        self.recurrent_kernel = rand(Hh, gates * H)
        # W_proj [H,P], scaled so h stays in the activations' range.
        self.projection = None if projection is None else \
            rand(H, Hh, scale=1 / np.sqrt(max(H, 1)))
        self.bias = rand(*((gates * H,) if bias_rows == 1
                           else (2, gates * H)))
        self.lengths = (np.full(B, T, np.int32) if full or T == 0 else
                        rng.integers(0, T + 1, B).astype(np.int32))
        if B > 1 and T > 0 and not full:
            self.lengths[0], self.lengths[-1] = 0, T  # an empty and a full row
        self.mask = ((rng.random((B, Hh)) > 0.3) / 0.7).astype(dtype) \
            if masked else None
        self.d_output, self.d_h_n = rand(B, T, Hh), rand(B, Hh)
        self.d_c_n = rand(B, H) if has_c else None
        # The LSTM's options: peepholes, a clip, zoneout of h per step (a
        # 0/1 mask) and of c as one value; the clip as the op's float attr.
        self.options = options
        if options:
            self.peephole = rand(3, H)
            self.zoneout_h = (rng.random((B, T, Hh)) < 0.5).astype(dtype)
            self.zoneout_c = np.array(0.3, dtype)
            self.cell_clip = float(np.float32(0.7))
        # The layer norm's gains and shift (the LSTM's), and its row.
        self.layer_norm = None
        if layer_norm:
            self.layer_norm = (1 + rand(4 * H), 1 + rand(4 * H), 1 + rand(H),
                               rand(H))
            self.saved_width = 13 * H + 9

    def op_options(self):
        """(peephole, zoneout_h, zoneout_c, the layer norm's four, the
        projection) and the attrs of the CPU op."""
        none = np.zeros([0], self.dtype)
        layer_norm = self.layer_norm or (none,) * 4
        projection = (none if self.projection is None else self.projection,)
        if not self.options:
            return (none, none, none) + layer_norm + projection, {}
        return ((self.peephole, self.zoneout_h, self.zoneout_c)
                + layer_norm + projection, {"cell_clip": self.cell_clip})

    def core_options(self):
        if (not self.options and self.layer_norm is None
                and self.projection is None):
            return None
        options = gpu_core.LstmOptions(cell_clip=-1.0)
        if self.options:
            options = gpu_core.LstmOptions(
                addr(self.peephole), addr(self.zoneout_h),
                addr(self.zoneout_c), 1, 0, self.cell_clip)
        if self.layer_norm is not None:
            options.layer_norm = (gpu_core.ctypes.c_void_p * 4)(
                *[addr(w) for w in self.layer_norm])
            options.layer_norm_epsilon = float(np.float32(1e-3))
        if self.projection is not None:
            options.projection = addr(self.projection)
            options.projection_units = self.hidden
        return options

    @property
    def max_len(self):
        return int(self.lengths.max()) if self.lengths.size else 0

    def cpu_forward(self, ops, reverse):
        """(output, h_n, c_n, saved, cell) of the CPU op (None: none)."""
        mask = self.mask if self.mask is not None else \
            np.zeros([0], self.dtype)
        args = (self.kernel, self.recurrent_kernel, self.bias, self.lengths,
                mask)
        if self.cell == "lstm":
            options, attrs = self.op_options()
            r = ops.tfrnn_lstm(self.x, self.h0, self.c0, *args, *options,
                               reverse=reverse, **attrs)
            return tuple(t.numpy() for t in r)
        if self.cell == "gru":
            out, h_n, reserve = ops.tfrnn_gru(self.x, self.h0, *args,
                                              reverse=reverse)
            return out.numpy(), h_n.numpy(), None, reserve.numpy(), None
        out, h_n = ops.tfrnn_rnn(self.x, self.h0, *args, reverse=reverse,
                                 nonlinearity=self.cell[4:])
        return out.numpy(), h_n.numpy(), None, None, None

    def cpu_backward(self, ops, reverse, fwd):
        """(dx, dh0, dc0, dkernel, drecurrent_kernel, dbias, dpeephole) of
        the CPU (None: none)."""
        output, _, _, saved, cell = fwd
        mask = self.mask if self.mask is not None else \
            np.zeros([0], self.dtype)
        w = (self.kernel, self.recurrent_kernel, self.lengths)
        if self.cell == "lstm":
            options, attrs = self.op_options()
            r = [t.numpy() for t in ops.tfrnn_lstm_grad(
                self.x, self.h0, self.c0, *w, output, saved, cell,
                self.d_output, self.d_h_n, self.d_c_n, mask, *options,
                reverse=reverse, **attrs)]
            layer_norm = tuple(r[7:11]) if self.layer_norm else (None,) * 4
            projection = r[11] if self.projection is not None else None
            return tuple(r[:6]) + (r[6] if self.options else None,) \
                + layer_norm + (projection,)
        if self.cell == "gru":
            dx, dh0, dk, drk, db = ops.tfrnn_gru_grad(
                self.x, self.h0, *w, output, saved, self.d_output,
                self.d_h_n, mask, reverse=reverse)
        else:
            dx, dh0, dk, drk, db = ops.tfrnn_rnn_grad(
                self.x, self.h0, *w, output, self.d_output, self.d_h_n,
                mask, reverse=reverse, nonlinearity=self.cell[4:])
        return (dx.numpy(), dh0.numpy(), None, dk.numpy(), drk.numpy(),
                db.numpy()) + (None,) * 6

    def _empty(self, *s):
        return np.full(s, np.nan, self.dtype)  # the core must write it all

    def core_forward(self, core, reverse, training=True, step=False):
        B, T, I, H = self.shape
        Hh = self.hidden
        out = [None if step else self._empty(B, T, Hh), self._empty(B, Hh),
               self._empty(B, H) if self.has_c else None,
               self._empty(T, B, self.saved_width)
               if training and self.saved_width else None,
               self._empty(B, T, H) if training and self.has_c and not step
               else None]
        work = np.zeros(self.workspace_bytes(core, False), np.uint8)
        core.forward(self.cell, self.dtype.itemsize, reverse, self.shape,
                     self.max_len, x=addr(self.x), h0=addr(self.h0),
                     c0=addr(self.c0), kernel=addr(self.kernel),
                     recurrent_kernel=addr(self.recurrent_kernel),
                     bias=addr(self.bias),
                     lengths=0 if step else addr(self.lengths),
                     recurrent_mask=addr(self.mask), output=addr(out[0]),
                     h_n=addr(out[1]), c_n=addr(out[2]), saved=addr(out[3]),
                     cell_states=addr(out[4]), workspace=addr(work),
                     options=self.core_options())
        return tuple(out)

    def core_backward(self, core, reverse, fwd):
        B, T, I, H = self.shape
        output, _, _, saved, cell = fwd
        gates = self.kernel.shape[1]
        grads = [self._empty(B, T, I), self._empty(B, self.hidden),
                 self._empty(B, H) if self.has_c else None,
                 self._empty(I, gates), self._empty(self.hidden, gates),
                 self._empty(*self.bias.shape),
                 self._empty(3, H) if self.options else None]
        grads += ([self._empty(*w.shape) for w in self.layer_norm]
                  if self.layer_norm is not None else [None] * 4)
        grads.append(None if self.projection is None
                     else self._empty(*self.projection.shape))
        d_options = [addr(g) for g in grads[7:]]
        if not any(d_options):
            d_options = None
        work = np.zeros(self.workspace_bytes(core, True), np.uint8)
        core.backward(self.cell, self.dtype.itemsize, reverse, self.shape,
                      self.max_len, x=addr(self.x), h0=addr(self.h0),
                      c0=addr(self.c0), kernel=addr(self.kernel),
                      recurrent_kernel=addr(self.recurrent_kernel),
                      lengths=addr(self.lengths),
                      recurrent_mask=addr(self.mask), output=addr(output),
                      saved=addr(saved), cell_states=addr(cell),
                      d_output=addr(self.d_output), d_h_n=addr(self.d_h_n),
                      d_c_n=addr(self.d_c_n), dx=addr(grads[0]),
                      dh0=addr(grads[1]), dc0=addr(grads[2]),
                      dkernel=addr(grads[3]),
                      drecurrent_kernel=addr(grads[4]),
                      dbias=addr(grads[5]), dpeephole=addr(grads[6]),
                      workspace=addr(work), options=self.core_options(),
                      d_options=d_options)
        return tuple(grads)

    def workspace_bytes(self, core, backward):
        return core.workspace_bytes(
            self.cell, self.dtype.itemsize, backward, self.shape,
            self.layer_norm is not None,
            0 if self.projection is None else self.hidden)

    def ran(self):
        """[B,T] True where a row ran the step."""
        T = self.shape[1]
        return np.arange(T)[None, :] < self.lengths[:, None]


TOLERANCE = {np.float64: 1e-11, np.float32: 2e-5}


def assert_close(got, want, what, dtype):
    """Within tol of the reference, relative to the result's scale (a sum
    of large terms that cancel is only that close in float32)."""
    tol = TOLERANCE[dtype]
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale,
                               err_msg=what)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_sequence_matches_cpu_op(core, cpu_ops, cell, shape, reverse,
                                 masked):
    check_against_cpu_op(
        core, cpu_ops, Case(cell, shape, np.float64, masked,
                            seed=hash((cell, shape)) % 1000), reverse)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("layer_norm", [False, True])
def test_lstm_options_match_cpu_op(core, cpu_ops, shape, reverse, masked,
                                   layer_norm):
    """Peepholes, the clip and both zoneouts at once, with and without the
    layer norm: dpeephole and the layer norm's gradients included."""
    check_against_cpu_op(
        core, cpu_ops, Case("lstm", shape, np.float64, masked,
                            seed=hash(shape) % 1000, options=True,
                            layer_norm=layer_norm), reverse)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("options", [False, True])
@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("layer_norm", [False, True])
def test_projection_matches_cpu_op(core, cpu_ops, shape, reverse, masked,
                                   options, wide, layer_norm):
    """The projection (P = 3, or H + 4), alone and with peepholes, the clip
    and both zoneouts (zoneout_h on the projected h), with and without the
    layer norm: dprojection included."""
    P = shape[3] + 4 if wide else 3
    check_against_cpu_op(
        core, cpu_ops, Case("lstm", shape, np.float64, masked,
                            seed=hash(shape) % 1000 + 1, options=options,
                            layer_norm=layer_norm, projection=P), reverse)


@pytest.mark.parametrize("shape", SHAPES[:2], ids=str)
def test_layer_norm_alone_matches_cpu_op(core, cpu_ops, shape):
    check_against_cpu_op(
        core, cpu_ops, Case("lstm", shape, np.float64, True, seed=11,
                            layer_norm=True), False)


def check_against_cpu_op(core, cpu_ops, case, reverse):
    dtype = case.dtype.type
    want = case.cpu_forward(cpu_ops, reverse)
    got = case.core_forward(core, reverse)
    ran = case.ran()
    for name, g, w in zip(("output", "h_n", "c_n"), got, want):
        if w is not None:
            assert_close(g, w, name, dtype)
    if case.saved_width:  # time-major [T,B,..]: the steps that ran
        assert_close(got[3][ran.T], want[3][ran.T], "saved", dtype)
    if case.has_c:
        assert_close(got[4][ran], want[4][ran], "cell", dtype)
    want_grads = case.cpu_backward(cpu_ops, reverse, want)
    got_grads = case.core_backward(core, reverse, got)
    for name, g, w in zip(("dx", "dh0", "dc0", "dkernel",
                           "drecurrent_kernel", "dbias", "dpeephole",
                           "dgain_x", "dgain_h", "dgain_c", "dshift_c",
                           "dprojection"),
                          got_grads, want_grads):
        if w is not None:
            assert_close(g, w, name, dtype)


# The LSTM's variants with walks of their own, beside the plain cells.
VARIANTS = {"lstm_layer_norm": {"layer_norm": True, "options": True},
            "lstm_projected": {"projection": 7, "options": True},
            "lstm_layer_norm_projected": {"layer_norm": True,
                                          "projection": 7, "options": True}}


def cell_case(cell, *args, **kwargs):
    """A Case of a plain cell, or of the LSTM with a variant of VARIANTS."""
    variant = VARIANTS.get(cell, {})
    return Case("lstm" if variant else cell, *args, **kwargs, **variant)


@pytest.mark.parametrize("cell", CELLS + sorted(VARIANTS))
def test_float32_matches_cpu_op(core, cpu_ops, cell):
    case = cell_case(cell, (6, 9, 5, 37), np.float32, True, seed=7)
    want = case.cpu_forward(cpu_ops, False)
    got = case.core_forward(core, False)
    assert_close(got[0], want[0], "output", np.float32)
    for g, w in zip(case.core_backward(core, False, got),
                    case.cpu_backward(cpu_ops, False, want)):
        if w is not None:
            assert_close(g, w, "gradient", np.float32)


@pytest.mark.parametrize("cell", CELLS + sorted(VARIANTS))
def test_inference_and_single_step(core, cpu_ops, cell):
    """Without saved values (inference) and as the step op (T = 1, no
    lengths, no output sequence), the states are the training forward's."""
    case = cell_case(cell, (3, 1, 4, 10), np.float64, False, seed=3,
                     full=True)
    want = case.cpu_forward(cpu_ops, False)
    for kwargs in ({"training": False}, {"step": True}):
        got = case.core_forward(core, False, **kwargs)
        assert_close(got[1], want[1], f"h_n {kwargs}", np.float64)
        if case.has_c:
            assert_close(got[2], want[2], f"c_n {kwargs}", np.float64)


def test_bad_cell_is_an_error_not_a_crash(core):
    case = Case("lstm", (2, 3, 2, 4), np.float32, False, seed=0)
    with pytest.raises(gpu_core.GpuCoreError, match="cell must be"):
        core.forward("lstmx", 4, False, case.shape, 3)
    with pytest.raises(gpu_core.GpuCoreError, match="dtype_bytes"):
        core.forward("lstm", 2, False, case.shape, 3)
    with pytest.raises(gpu_core.GpuCoreError, match="LSTM's only"):
        core.forward("gru", 4, False, case.shape, 3,
                     options=gpu_core.LstmOptions(cell_clip=1.0))


@pytest.mark.parametrize("n,blocks", [(1, 1), (255, 1), (256, 1), (257, 2),
                                      (256 << 16, 1 << 16),
                                      ((256 << 16) + 1, 1 << 16)])
def test_launch_shape(core, n, blocks):
    """Blocks of 256 threads cover n; past 65536 blocks a grid-stride loop
    takes the rest."""
    assert core.launch_shape(n) == (blocks, 256)
    assert core.launch_shape(0)[0] == 0


def test_workspace_grows_with_the_problem(core):
    small = core.workspace_bytes("lstm", 4, True, (2, 3, 4, 5))
    large = core.workspace_bytes("lstm", 4, True, (2, 30, 4, 5))
    assert 0 < small < large
    assert core.workspace_bytes("lstm", 8, True, (2, 30, 4, 5)) > large
    assert core.workspace_bytes("nope", 4, True, (2, 3, 4, 5)) == 0
    assert core.workspace_bytes("lstm", 4, True, (2, 30, 4, 5), True) > large


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zoneout_check_finds_the_first_value_outside_unit_interval(core,
                                                                   dtype):
    """What the GPU kernels run before a walk with zoneout, so that a bad
    value is the CPU's InvalidArgument (validation.h's ZoneoutOutOfRange)
    and not a number: the first flat index outside [0, 1], NaN included,
    and its value; None when every value lies inside (0 and 1 too)."""
    scratch = np.zeros(1, np.int64)

    def find(values):
        values = np.asarray(values, dtype)
        return core.find_outside_unit_interval(
            values.itemsize, values.ctypes.data, values.size,
            scratch.ctypes.data)

    inside = np.random.default_rng(0).uniform(0, 1, 1000)
    inside[[0, -1]] = 0.0, 1.0
    assert find(inside) is None
    assert find([]) is None
    for bad in (-1e-7, 1.5, np.inf, -np.inf):
        values = inside.copy()
        values[[700, 321]] = bad
        index, value = find(values)
        assert index == 321 and value == np.asarray(bad, dtype)
    values = inside.copy()
    values[[900, 5]] = np.nan, 2.0
    assert find(values) == (5, 2.0)
    values[5] = 0.5
    index, value = find(values)
    assert index == 900 and np.isnan(value)
    with pytest.raises(gpu_core.GpuCoreError, match="dtype_bytes"):
        core.find_outside_unit_interval(2, inside.ctypes.data, 1,
                                        scratch.ctypes.data)
