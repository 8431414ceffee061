"""The GPU check, with no TensorFlow: the CUDA core against torch / cuDNN.

Builds the framework-free GPU core (custom_ops/gpu_build.py) and runs it
through its C ABI (tfrnn/gpu_core.py) on torch tensors' data pointers
and torch's current stream, then prints one table of:

* parity: random problems of every cell (lengths with empty and full rows,
  reverse, B = 1, H not a multiple of 32) against torch.nn.LSTM / GRU / RNN
  (cuDNN, TF32 off) with the same weights: outputs, final states and every
  gradient, fp32 (targets: outputs 1e-5, gradients 1e-4 relative to the
  reference's largest value); the LSTM's projection against
  torch.nn.LSTM(proj_size=P) the same way;
* the recurrent (variational dropout) mask and the LSTM's options, which
  torch lacks: the CUDA core against its own host build (the CPU op's
  numbers, tests/gpu/test_gpu_core.py) in float64 (with --host, the host build
  against itself: that line checks nothing there);
* the zoneout check the GPU kernels run (the first value outside [0, 1]);
* determinism: the same call twice, bitwise;
* time: forward + backward in ms against cuDNN, and the fp32 GEMM peak
  torch measures in the same run.

Results are compared on the CPU (relative_error), whichever device made
them. `--core-only` runs the core's own checks only (no cuDNN, no timing):
what gpu_check.sh runs under compute-sanitizer.

Exit status 1 when a parity or determinism check fails. `--host` runs it
all on the CPU with the host build and CPU torch (to check this script on a
machine without a GPU; its times mean nothing). benchmarks/gpu_check.sh is
the one command for the GPU machine.
"""

import argparse
import math
import os
import statistics
import sys
import tempfile
import time

import torch

# The checkout's tfrnn (its framework-free gpu_core: no TensorFlow here)
# and its build script.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "custom_ops")]
import gpu_build  # noqa: E402
from tfrnn import gpu_core  # noqa: E402

# (cell, B, T, I, H): odd sizes for parity, the configs for time
# (a sixth, P: the LSTM's projection, timed against torch's proj_size).
PARITY = [(c, B, T, I, H) for c in sorted(gpu_core.CELLS)
          for (B, T, I, H) in [(1, 9, 5, 33), (7, 23, 17, 64),
                               (32, 50, 64, 200)]]
TIMING = [("lstm", 64, 100, 512, 512), ("lstm", 256, 100, 1024, 1024),
          ("lstm", 8, 500, 256, 256), ("lstm", 8, 500, 512, 512),
          ("lstm", 1, 500, 256, 256), ("lstm", 64, 100, 512, 512, 256),
          ("gru", 64, 100, 512, 512), ("rnn_tanh", 64, 100, 512, 512)]
HOST_TIMING = [("lstm", 4, 10, 16, 16), ("lstm", 4, 10, 16, 16, 8)]
# (B, T, I, H, P): the LSTM's projection against torch's proj_size.
PROJECTED = [(1, 9, 5, 33, 7), (7, 23, 17, 64, 48), (32, 50, 64, 200, 100)]
GRU_ORDER = [1, 0, 2]  # Keras's z, r, h blocks <-> torch's r, z, n


def ptr(t):
    return 0 if t is None or t.numel() == 0 else t.data_ptr()


class Problem:
    """One cell's inputs and upstream gradients, in the op's layouts
    (batch-major x [B,T,I], Keras's kernel [I,G*H], bias [G*H] or, for the
    GRU, [2,G*H])."""

    def __init__(self, cell, B, T, I, H, device, dtype, seed,
                 full=False, masked=False, options=False, layer_norm=False,
                 projection=None):
        gates, self.saved_units, bias_rows, self.has_c = gpu_core.CELLS[cell]
        Hh = self.hidden = H if projection is None else projection
        gen = torch.Generator().manual_seed(seed)

        def rand(*shape, scale=0.5):
            return (torch.randn(*shape, generator=gen, dtype=torch.float64)
                    * scale).to(device, dtype)

        self.cell, self.dims, self.device, self.dtype = cell, (B, T, I, H), \
            device, dtype
        self.x, self.h0 = rand(B, T, I), rand(B, Hh)
        self.c0 = rand(B, H) if self.has_c else None
        # Weights of a trained-like scale: 1/sqrt(fan-in), half that for
        # the ungated Elman cell, so no problem is chaotic (float32's
        # rounding would then decide the comparison, not the kernels).
        gain = 0.5 if gates == 1 else 1.0
        self.kernel = rand(I, gates * H, scale=gain / max(I, 1) ** 0.5)
        self.recurrent_kernel = rand(Hh, gates * H, scale=gain / Hh ** 0.5)
        # The LSTM's projection W_proj [H,P] (h = m . W_proj), or None.
        self.projection = None if projection is None else \
            rand(H, Hh, scale=1 / H ** 0.5)
        self.bias = rand(gates * H) if bias_rows == 1 else \
            rand(2, gates * H)
        lengths = torch.full((B,), T, dtype=torch.int32)
        if not full and B > 1:
            lengths = torch.randint(0, T + 1, (B,), generator=gen,
                                    dtype=torch.int32)
            lengths[0], lengths[-1] = 0, T  # an empty and a full row
        self.lengths = lengths.to(device)
        self.max_len = int(lengths.max()) if B else 0
        keep = torch.rand(B, Hh, generator=gen, dtype=torch.float64) > 0.3
        self.mask = (keep / 0.7).to(device, dtype) if masked else None
        self.d_output, self.d_h_n = rand(B, T, Hh), rand(B, Hh)
        self.d_c_n = rand(B, H) if self.has_c else None
        # The LSTM's options: peepholes, a clip, zoneout of h per step (a
        # 0/1 mask) and of c as one value.
        self.options = options
        if options:
            self.peephole = rand(3, H)
            drop = torch.rand(B, T, Hh, generator=gen, dtype=torch.float64)
            self.zoneout_h = (drop < 0.5).to(device, dtype)
            self.zoneout_c = torch.full((), 0.3, device=device, dtype=dtype)
        # The LSTM's layer norm (with the options): gains, shift, its row.
        self.layer_norm = None
        if layer_norm:
            self.layer_norm = [1 + rand(4 * H), 1 + rand(4 * H), 1 + rand(H),
                               rand(H)]
        self.saved_width = (13 * H + 9 if layer_norm
                            else self.saved_units * H)

    def core_options(self):
        if not self.options and self.projection is None:
            return None
        options = gpu_core.LstmOptions(cell_clip=-1.0)
        if self.options:
            options = gpu_core.LstmOptions(ptr(self.peephole),
                                           ptr(self.zoneout_h),
                                           self.zoneout_c.data_ptr(), 1, 0,
                                           0.7)
        if self.layer_norm is not None:
            options.layer_norm = (gpu_core.ctypes.c_void_p * 4)(
                *[ptr(w) for w in self.layer_norm])
            options.layer_norm_epsilon = 1e-3
        if self.projection is not None:
            options.projection = ptr(self.projection)
            options.projection_units = self.hidden
        return options

    def to(self, device, dtype):
        """The same problem on another device or in another dtype."""
        def moved(v):
            if isinstance(v, list):  # the layer norm's weights
                return [moved(w) for w in v]
            if not isinstance(v, torch.Tensor):
                return v
            return v.to(device, v.dtype if v.dtype == torch.int32 else dtype)

        other = object.__new__(Problem)
        other.__dict__.update({k: moved(v) for k, v in self.__dict__.items()})
        other.device, other.dtype = device, dtype
        return other


def run_core(core, p, reverse, stream, poison=True):
    """(output, h_n, c_n, dx, dh0, dc0, dkernel, drecurrent_kernel, dbias,
    dpeephole, the layer norm's dgain_x, dgain_h, dgain_c, dshift_c, and
    dprojection) of
    the core's training forward and backward (None where none). Results
    start as NaN (`poison`) so anything the core leaves unwritten shows."""
    B, T, I, H = p.dims

    def new(*shape):
        if not poison:
            return torch.empty(shape, device=p.device, dtype=p.dtype)
        return torch.full(shape, float("nan"), device=p.device,
                          dtype=p.dtype)

    def workspace(backward):
        n = core.workspace_bytes(
            p.cell, p.dtype.itemsize, backward, p.dims,
            p.layer_norm is not None,
            0 if p.projection is None else p.hidden)
        return torch.empty(n, dtype=torch.uint8, device=p.device)

    out, h_n = new(B, T, p.hidden), new(B, p.hidden)
    c_n, cells = (new(B, H), new(B, T, H)) if p.has_c else (None, None)
    saved = new(T, B, p.saved_width) if p.saved_width else None
    common = dict(x=ptr(p.x), h0=ptr(p.h0), c0=ptr(p.c0),
                  kernel=ptr(p.kernel),
                  recurrent_kernel=ptr(p.recurrent_kernel),
                  lengths=ptr(p.lengths), recurrent_mask=ptr(p.mask),
                  stream=stream, options=p.core_options())
    work = workspace(False)
    core.forward(p.cell, p.dtype.itemsize, reverse, p.dims, p.max_len,
                 bias=ptr(p.bias), output=ptr(out), h_n=ptr(h_n),
                 c_n=ptr(c_n), saved=ptr(saved), cell_states=ptr(cells),
                 workspace=ptr(work), **common)
    grads = [new(B, T, I), new(B, p.hidden), new(B, H) if p.has_c else None,
             new(*p.kernel.shape), new(*p.recurrent_kernel.shape),
             new(*p.bias.shape), new(3, H) if p.options else None]
    grads += ([new(*w.shape) for w in p.layer_norm]
              if p.layer_norm is not None else [None] * 4)
    grads.append(None if p.projection is None else new(*p.projection.shape))
    d_options = [ptr(g) for g in grads[7:]]
    if not any(d_options):
        d_options = None
    work = workspace(True)
    core.backward(p.cell, p.dtype.itemsize, reverse, p.dims, p.max_len,
                  output=ptr(out), saved=ptr(saved), cell_states=ptr(cells),
                  d_output=ptr(p.d_output), d_h_n=ptr(p.d_h_n),
                  d_c_n=ptr(p.d_c_n), dx=ptr(grads[0]), dh0=ptr(grads[1]),
                  dc0=ptr(grads[2]), dkernel=ptr(grads[3]),
                  drecurrent_kernel=ptr(grads[4]), dbias=ptr(grads[5]),
                  dpeephole=ptr(grads[6]), workspace=ptr(work),
                  d_options=d_options, **common)
    return (out, h_n, c_n, *grads)


def torch_blocks(w, cell):
    """Keras's gate blocks (last axis) in torch's order."""
    if cell != "gru":
        return w
    blocks = w.chunk(3, -1)
    return torch.cat([blocks[i] for i in GRU_ORDER], -1)


def torch_module(p):
    """torch.nn.LSTM / GRU / RNN with the problem's weights."""
    B, T, I, H = p.dims
    if p.cell == "lstm":
        module = torch.nn.LSTM(I, H, batch_first=True,
                               proj_size=0 if p.projection is None
                               else p.hidden)
    elif p.cell == "gru":
        module = torch.nn.GRU(I, H, batch_first=True)
    else:
        module = torch.nn.RNN(I, H, batch_first=True,
                              nonlinearity=p.cell[4:])
    module = module.to(p.device, p.dtype)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch_blocks(p.kernel, p.cell).T)
        module.weight_hh_l0.copy_(torch_blocks(p.recurrent_kernel, p.cell).T)
        if p.bias.dim() == 2:
            module.bias_ih_l0.copy_(torch_blocks(p.bias[0], p.cell))
            module.bias_hh_l0.copy_(torch_blocks(p.bias[1], p.cell))
        else:
            module.bias_ih_l0.copy_(p.bias)
            module.bias_hh_l0.zero_()
        if p.projection is not None:
            module.weight_hr_l0.copy_(p.projection.T)
    return module


def flip_within(x, lengths):
    """Each row's first lengths[b] steps in reverse order; the rest kept."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]
    n = lengths.long()[:, None]
    index = torch.where(t < n, n - 1 - t, t)
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))


def run_torch(p, reverse, module=None):
    """The same results as run_core, from torch (packed sequences; rows of
    length 0, which torch refuses, keep their initial state)."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    B, T, I, H = p.dims
    module = module or torch_module(p)
    x = p.x.clone().requires_grad_()
    h0 = p.h0.clone().requires_grad_()
    c0 = p.c0.clone().requires_grad_() if p.has_c else None
    rows = (p.lengths > 0).nonzero().flatten()
    lengths = p.lengths[rows]
    xs = flip_within(x[rows], lengths) if reverse else x[rows]
    packed = pack_padded_sequence(xs, lengths.cpu(), batch_first=True,
                                  enforce_sorted=False)
    state = (h0[rows][None], c0[rows][None]) if p.has_c else h0[rows][None]
    out_p, state = module(packed, state)
    out_r, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)
    if reverse:
        out_r = flip_within(out_r, lengths)
    out = torch.zeros(B, T, p.hidden, device=p.device,
                      dtype=p.dtype).index_copy(
        0, rows, out_r)
    h_last = state[0] if p.has_c else state
    h_n = h0.index_copy(0, rows, h_last[0])
    c_n = c0.index_copy(0, rows, state[1][0]) if p.has_c else None
    loss = (out * p.d_output).sum() + (h_n * p.d_h_n).sum()
    if p.has_c:
        loss = loss + (c_n * p.d_c_n).sum()
    projected = p.projection is not None
    inputs = [x, h0] + ([c0] if p.has_c else []) + [
        module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0,
        module.bias_hh_l0] + ([module.weight_hr_l0] if projected else [])
    grads = list(torch.autograd.grad(loss, inputs))
    dx, dh0 = grads[:2]
    dc0 = grads[2] if p.has_c else None
    dw_hr = grads.pop().T if projected else None
    dw_ih, dw_hh, db_ih, db_hh = grads[-4:]
    dbias = torch.stack([torch_blocks(db_ih, p.cell),
                         torch_blocks(db_hh, p.cell)]) \
        if p.bias.dim() == 2 else db_ih
    return (out.detach(), h_n.detach(),
            c_n.detach() if p.has_c else None, dx, dh0, dc0,
            torch_blocks(dw_ih.T, p.cell), torch_blocks(dw_hh.T, p.cell),
            dbias) + (None,) * 5 + (dw_hr,)  # run_core's dprojection


NAMES = ("output", "h_n", "c_n", "dx", "dh0", "dc0", "dkernel",
         "drecurrent_kernel", "dbias")


def relative_error(got, want):
    """max |got - want| / max |want| as a 0-d float64 tensor on the CPU.
    Both sides move to the CPU first: the core's results live on the GPU
    and the host build's on the CPU, and torch subtracts on one device
    only (tests/gpu/test_gpu_check.py checks this with fake tensors)."""
    got = got.detach().to("cpu", torch.float64)
    want = want.detach().to("cpu", torch.float64)
    return (got - want).abs().max() / want.abs().max().clamp_min(1e-30)


def worst_errors(got, want):
    """(largest forward error, largest gradient error), each relative to
    the reference's largest magnitude."""
    errors = [0.0, 0.0]
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None or w.numel() == 0:
            continue
        err = float(relative_error(g, w))
        if not math.isfinite(err):  # NaN (unwritten) or inf anywhere
            err = float("inf")
        kind = 0 if i < 3 else 1
        errors[kind] = max(errors[kind], err)
    return errors


def check_parity(core, device, stream, report):
    cases = [c + (None,) for c in PARITY] + [
        ("lstm",) + c for c in PROJECTED]
    for n, (cell, B, T, I, H, P) in enumerate(cases):
        for reverse in (False, True):
            p = Problem(cell, B, T, I, H, device, torch.float32, seed=n,
                        projection=P)
            fwd, grad = worst_errors(run_core(core, p, reverse, stream),
                                     run_torch(p, reverse))
            report(f"parity vs torch {cell} B{B} T{T} I{I} H{H}"
                   f"{f' P{P}' if P else ''}"
                   f"{' reverse' if reverse else ''}",
                   fwd <= 1e-5 and grad <= 1e-4,
                   f"out {fwd:.1e} grad {grad:.1e}")


def check_mask(core, host_core, device, stream, report):
    for n, cell in enumerate(sorted(gpu_core.CELLS)):
        p = Problem(cell, 6, 11, 7, 40, device, torch.float64, seed=100 + n,
                    masked=True)
        on_host = p.to("cpu", torch.float64)
        fwd, grad = worst_errors(run_core(core, p, True, stream),
                                 run_core(host_core, on_host, True, 0))
        report(f"mask vs host build {cell} (float64, reverse)",
               max(fwd, grad) <= 1e-10, f"out {fwd:.1e} grad {grad:.1e}")
    for reverse in (False, True):
        for variant in (None, "layer norm", "projection",
                        "layer norm + projection"):
            p = Problem("lstm", 6, 11, 7, 40, device, torch.float64,
                        seed=200, masked=True, options=True,
                        layer_norm=variant is not None and "norm" in variant,
                        projection=17 if variant and "proj" in variant
                        else None)
            on_host = p.to("cpu", torch.float64)
            fwd, grad = worst_errors(run_core(core, p, reverse, stream),
                                     run_core(host_core, on_host, reverse, 0))
            report(f"lstm options{f' + {variant}' if variant else ''} vs "
                   f"host build (float64{', reverse' if reverse else ''})",
                   max(fwd, grad) <= 1e-10, f"out {fwd:.1e} grad {grad:.1e}")


def check_zoneout_values(core, device, stream, report):
    """The zoneout check the GPU kernels run before a walk: the first value
    outside [0, 1] (NaN too), found on the device."""
    scratch = torch.zeros(1, dtype=torch.int64, device=device)
    for dtype in (torch.float32, torch.float64):
        values = torch.rand(100_003, dtype=torch.float64).to(device, dtype)
        values[[70_001, 99_999]] = float("nan")
        values[[80_000, 90_000]] = 1.5
        found = [core.find_outside_unit_interval(
            dtype.itemsize, values.data_ptr(), values.numel(),
            scratch.data_ptr(), stream)]
        values[70_001] = 0.5
        found.append(core.find_outside_unit_interval(
            dtype.itemsize, values.data_ptr(), values.numel(),
            scratch.data_ptr(), stream))
        values[[80_000, 90_000, 99_999]] = 1.0
        found.append(core.find_outside_unit_interval(
            dtype.itemsize, values.data_ptr(), values.numel(),
            scratch.data_ptr(), stream))
        ok = (found[0][0] == 70_001 and math.isnan(found[0][1])
              and found[1] == (80_000, 1.5) and found[2] is None)
        report(f"zoneout values outside [0, 1] found ({dtype})", ok,
               str(found))


def check_determinism(core, device, stream, report):
    cases = [(cell, False) for cell in sorted(gpu_core.CELLS)]
    for cell, options in cases + [("lstm", True), ("lstm", "layer_norm"),
                                  ("lstm", "projection")]:
        p = Problem(cell, 48, 40, 64, 128, device, torch.float32, seed=7,
                    masked=True, options=bool(options),
                    layer_norm=options == "layer_norm",
                    projection=64 if options == "projection" else None)
        first = run_core(core, p, False, stream)
        second = run_core(core, p, False, stream)
        same = all(a is None or torch.equal(a, b)
                   for a, b in zip(first, second))
        named = {True: " options", "layer_norm": " options + layer norm",
                 "projection": " options + projection"}
        report(f"bitwise repeat {cell}{named.get(options, '')}", same, "")


def timer(device, fn, repeats):
    """Median ms of fn over repeats, after two warm-up calls."""
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), \
                torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def gemm_peak(device, repeats):
    """fp32 GEMM TFLOP/s torch reaches here (TF32 off)."""
    n = 8192 if device == "cuda" else 512
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    ms = timer(device, lambda: a @ b, repeats)
    return 2 * n ** 3 / ms / 1e9


def time_configs(core, device, stream, configs, repeats):
    peak = gemm_peak(device, repeats)
    print(f"\nfp32 GEMM peak measured here: {peak:.3f} TFLOP/s")
    print(f"{'config':34} {'tfrnn ms':>9} {'torch ms':>9} {'ratio':>6}"
          f" {'tfrnn %peak':>11}")
    for n, (cell, B, T, I, H, *P) in enumerate(configs):  # P: projection
        P = P[0] if P else None
        p = Problem(cell, B, T, I, H, device, torch.float32, seed=1,
                    full=True, projection=P)
        module = torch_module(p)
        x = p.x.clone().requires_grad_()
        state = (p.h0[None], p.c0[None]) if p.has_c else p.h0[None]

        def torch_step():
            out, _ = module(x, state)
            out.backward(p.d_output)

        ours = timer(device, lambda: run_core(core, p, False, stream,
                                              poison=False), repeats)
        theirs = timer(device, torch_step, repeats)
        gates, Hh = p.kernel.shape[1], p.hidden
        flops = 3 * 2 * B * T * ((I + Hh) * gates  # forward + 2x backward
                                 + (0 if P is None else H * P))
        print(f"{cell} B{B} T{T} I{I} H{H}{f' P{P}' if P else ''}".ljust(34) +
              f" {ours:9.2f} {theirs:9.2f} {ours / theirs:6.2f}"
              f" {100 * flops / ours / 1e9 / peak:10.1f}%")
        if n == 0:  # the first config is an LSTM without projection
            time_zoneout_check(core, device, stream, p, ours, repeats)


def time_zoneout_check(core, device, stream, p, call_ms, repeats):
    """What the GPU kernels add to a call with a per-step zoneout: the
    check of its B*T*H values (one kernel, one wait for the stream)."""
    B, T, I, H = p.dims
    values = torch.rand(B, T, H, device=device)
    scratch = torch.zeros(1, dtype=torch.int64, device=device)
    ms = timer(device, lambda: core.find_outside_unit_interval(
        4, values.data_ptr(), values.numel(), scratch.data_ptr(), stream),
        repeats)
    print(f"  zoneout check of [B,T,H] = {values.numel()} values: "
          f"{ms:.3f} ms, {100 * ms / call_ms:.2f}% of that call")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", action="store_true",
                        help="the host build on the CPU (checks the script)")
    parser.add_argument("--core-only", action="store_true",
                        help="the core's own checks only (against the host "
                             "build, determinism): no cuDNN, no timing; "
                             "what gpu_check.sh runs under memcheck")
    parser.add_argument("--build-dir", default=None,
                        help="where the libraries are built, or found when "
                             "built there before (default: a temporary "
                             "directory)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    if not args.host and not torch.cuda.is_available():
        parser.error("no CUDA device visible to torch (use --host to check "
                     "the script on the CPU)")
    build_dir = args.build_dir or tempfile.mkdtemp(prefix="tfrnn_gpu_")

    def load(kind):
        path = os.path.join(build_dir, gpu_build.LIBRARIES[kind])
        if not os.path.exists(path):
            gpu_build.build(kind, build_dir)
        return gpu_core.GpuCore(path)

    host_core = load("host")
    if args.host:
        core, device, stream = host_core, "cpu", 0
    else:
        core = load("cuda")
        device, stream = "cuda", torch.cuda.current_stream().cuda_stream
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        print("device:", torch.cuda.get_device_name(), "torch",
              torch.__version__, "cuDNN", torch.backends.cudnn.version())
    failures = []

    def report(what, ok, detail):
        print(f"{'ok  ' if ok else 'FAIL'} {what:58} {detail}", flush=True)
        if not ok:
            failures.append(what)

    torch.set_num_threads(os.cpu_count() or 1)
    if not args.core_only:
        check_parity(core, device, stream, report)
    check_mask(core, host_core, device, stream, report)
    check_zoneout_values(core, device, stream, report)
    check_determinism(core, device, stream, report)
    if not args.core_only:
        time_configs(core, device, stream,
                     HOST_TIMING if args.host else TIMING, args.repeats)
    print(f"\n{len(failures)} check(s) failed" if failures else
          "\nall checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
