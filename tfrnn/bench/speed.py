"""Fused LSTM (or GRU, or Elman RNN) speed against Keras's layer and the
other anchors, measured in one process.

For each config (batch-major B, T, I, H; float32) it times a forward pass
(inference) and a forward+backward pass (gradients of sum(outputs) w.r.t.
the inputs and weights) of:
  tfrnn   tfrnn.layers.LSTM / GRU / SimpleRNN (the fused op; rnn: tanh)
  keras   keras.layers.LSTM / GRU / SimpleRNN with the same weights
  block   TensorFlow's fused BlockLSTMV2, its gradient BlockLSTMGradV2 wired
          by hand (TF's registered gradient for V2 is wrong; see DESIGN.md)
  torch   torch.nn.LSTM / GRU / RNN (oneDNN), when torch is installed
Candidates are interleaved round by round after a warm-up, so machine noise
hits all alike, and reported as medians. torch runs in a phase of its own
after the TensorFlow candidates: its OpenMP threads spin after each call and
TensorFlow's park while they do, so interleaving the two runtimes slows
whichever runs second.

The table gives ms, the ratios other / tfrnn (above 1: tfrnn is faster), and
tfrnn's GFLOP/s as a share of the machine's GEMM peak, measured in the same
run with a large tf.matmul. `--memory` adds the resident memory the first
training step of each TensorFlow candidate adds to a fresh process at its
peak (saved activations, gradients, scratch); `--plot F.png` draws the
speed-ups.

    tfrnn bench [--cell gru|rnn] [--rounds 15] [--configs 32,100,128,128 ...]
                [--memory] [--plot speed.png] [--json results.json]
    tfrnn bench --variant all|peephole|zoneout|... (tfrnn/bench/variants.py:
                each LSTM option and mask against the plain fused LSTM)
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import numpy as np
import tensorflow as tf
import keras

import tfrnn
from tfrnn import cells
from tfrnn.bench import configs as bench_configs

# The four configs of DESIGN.md: (B, T, I, H).
DEFAULT_CONFIGS = [(32, 100, 128, 128), (64, 100, 256, 256),
                   (16, 200, 64, 512), (1, 500, 64, 256)]
PASSES = ("fwd", "f+b")
ANCHORS = ("keras", "block", "torch")


def layer_candidates(layer_class, x, weights):
    """{pass: fn(x)} for a Keras-style layer with the given weights."""
    layer = layer_class(weights[1].shape[0], return_sequences=True)
    layer.build(x.shape)
    layer.set_weights(weights)

    @tf.function
    def forward(x):
        return layer(x, training=False)

    @tf.function
    def forward_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True))
        return tape.gradient(loss, [x] + layer.trainable_weights)

    return {"fwd": forward, "f+b": forward_backward}


def block_lstm_candidates(x, weights):
    """TensorFlow's fused BlockLSTMV2 (time-major) with BlockLSTMGradV2
    called directly. V2 takes w = [kernel; recurrent_kernel] in Keras's gate
    order i, f, c, o (V1 takes i, c, f, o; see tfrnn.interop)."""
    kernel, recurrent, bias = weights
    units = recurrent.shape[0]
    w = tf.constant(np.concatenate([kernel, recurrent]))
    b = tf.constant(bias)
    zeros = tf.zeros([x.shape[0], units])
    no_peephole = tf.zeros([units])
    common = dict(cs_prev=zeros, h_prev=zeros, w=w, wci=no_peephole,
                  wcf=no_peephole, wco=no_peephole, b=b, use_peephole=False)

    def run(x):
        steps = tf.cast(tf.shape(x)[1], tf.int64)
        x_time_major = tf.transpose(x, [1, 0, 2])
        saved = tf.raw_ops.BlockLSTMV2(seq_len_max=steps, x=x_time_major,
                                       cell_clip=0.0, **common)
        return steps, x_time_major, saved

    @tf.function
    def forward(x):
        return tf.transpose(run(x)[2][-1], [1, 0, 2])

    @tf.function
    def forward_backward(x):
        steps, x_time_major, (i, cs, f, o, ci, co, h) = run(x)
        grads = tf.raw_ops.BlockLSTMGradV2(
            seq_len_max=steps, x=x_time_major, i=i, cs=cs, f=f, o=o, ci=ci,
            co=co, h=h, cs_grad=tf.zeros_like(cs), h_grad=tf.ones_like(h),
            **common)
        dx, dw, db = grads[0], grads[3], grads[7]
        return [tf.transpose(dx, [1, 0, 2]), dw[:kernel.shape[0]],
                dw[kernel.shape[0]:], db]

    return {"fwd": forward, "f+b": forward_backward}


def torch_candidates(cell, x, weights):
    """torch.nn.LSTM/GRU/RNN (batch_first, oneDNN on CPU) with the same
    weights, or {} when torch is not installed."""
    try:
        import torch
    except ImportError:
        return {}
    from tfrnn import interop
    torch.set_num_threads(os.cpu_count())
    units = weights[1].shape[0]
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU,
              "rnn": torch.nn.RNN}[cell](x.shape[-1], units, batch_first=True)
    mode = "rnn_tanh" if cell == "rnn" else cell
    state = interop.to_torch({(0, "forward"): weights}, mode)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    tx = torch.from_numpy(x.numpy())

    def forward(_):
        with torch.no_grad():
            return tf.constant(module(tx)[0].numpy())

    def forward_backward(_):
        xg = tx.clone().requires_grad_(True)
        module.zero_grad()
        module(xg)[0].sum().backward()
        return [tf.constant(xg.grad.numpy())]

    return {"fwd": forward, "f+b": forward_backward}


# cell -> (tfrnn layer, Keras layer)
CELLS = {"lstm": (tfrnn.layers.LSTM, keras.layers.LSTM),
         "gru": (tfrnn.layers.GRU, keras.layers.GRU),
         "rnn": (tfrnn.layers.SimpleRNN, keras.layers.SimpleRNN)}


def problem(config, cell):
    """Input and Keras-initialised weights for a config."""
    batch, steps, features, units = config
    x = tf.constant(np.random.default_rng(0).standard_normal(
        (batch, steps, features)), tf.float32)
    reference = CELLS[cell][1](units)
    reference.build(x.shape)
    return x, reference.get_weights()


def candidates_for(cell, x, weights):
    """{(name, pass): fn} of the TensorFlow candidates, checked to compute
    the same function as Keras (outputs and the input gradient), and Keras's
    forward output."""
    ours, theirs = CELLS[cell]
    found = {"tfrnn": layer_candidates(ours, x, weights),
             "keras": layer_candidates(theirs, x, weights)}
    if cell == "lstm":
        found["block"] = block_lstm_candidates(x, weights)
    want_y = found["keras"]["fwd"](x)
    want_dx = found["keras"]["f+b"](x)[0]
    for name, fns in found.items():
        np.testing.assert_allclose(fns["fwd"](x), want_y, atol=1e-4,
                                   err_msg=f"{name} forward")
        np.testing.assert_allclose(fns["f+b"](x)[0], want_dx, atol=1e-3,
                                   rtol=1e-3, err_msg=f"{name} gradient")
    return {(name, p): fn for name, fns in found.items()
            for p, fn in fns.items()}, want_y


def time_call(fn, x):
    start = time.perf_counter()
    result = fn(x)
    tf.nest.map_structure(lambda t: t.numpy(), result)  # wait for it
    return (time.perf_counter() - start) * 1e3


def interleaved_medians(candidates, x, rounds, warmup):
    """Median ms of each candidate, timed round by round in turn.

    Python's garbage collector is off meanwhile, as timeit turns it off: a
    collection set off by the garbage of one candidate (TensorFlow's object
    graph makes one take milliseconds) would land in another's time."""
    times = {key: [] for key in candidates}
    gc.collect()
    gc.disable()
    try:
        for r in range(warmup + rounds):
            for key, fn in candidates.items():
                elapsed = time_call(fn, x)
                if r >= warmup:
                    times[key].append(elapsed)
    finally:
        gc.enable()
    return {key: statistics.median(t) for key, t in times.items()}


def gemm_peak(n=4096, rounds=3):
    """GFLOP/s of a large float32 tf.matmul on this machine, now."""
    rng = np.random.default_rng(1)
    a = tf.constant(rng.standard_normal((n, n)), tf.float32)
    b = tf.constant(rng.standard_normal((n, n)), tf.float32)
    matmul = tf.function(tf.linalg.matmul)
    ms = interleaved_medians({"matmul": lambda _: matmul(a, b)}, None, rounds,
                             warmup=2)["matmul"]
    return 2.0 * n ** 3 / (ms * 1e-3) / 1e9


def flops(config, cell, forward_backward):
    """Multiply-adds x 2 of the layer's GEMMs: the forward pass does x.W and
    h.U for every step; the backward pass twice that (dx, dh and dW, dU)."""
    batch, steps, features, units = config
    gates = cells.CELLS[cell].gates
    forward = 2.0 * batch * steps * (features + units) * gates * units
    return 3 * forward if forward_backward else forward


def bench_config(config, rounds, warmup, cell="lstm", memory=False):
    """({(name, pass): median ms}, {name: MiB of a training step})."""
    x, weights = problem(config, cell)
    candidates, want_y = candidates_for(cell, x, weights)
    ms = interleaved_medians(candidates, x, rounds, warmup)
    mib = {name: peak_step_memory(cell, name, config)
           for (name, p) in candidates if memory and p == "f+b"}
    torch_fns = torch_candidates(cell, x, weights)
    if torch_fns:
        np.testing.assert_allclose(torch_fns["fwd"](x), want_y, atol=1e-4,
                                   err_msg="torch forward")
        ms.update(interleaved_medians(
            {("torch", p): fn for p, fn in torch_fns.items()}, x, rounds,
            warmup))
    return ms, mib


# --memory: each candidate's training step in a fresh process.
MEMORY_PROBE = "--memory-probe"


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_step_memory(cell, name, config):
    """MiB by which the first training step (forward + backward) of `name`
    raises its process's resident memory at the step's peak, measured in a
    fresh process (traced first; sampled every 0.2 ms)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tfrnn.bench.speed", MEMORY_PROBE, cell, name,
         ",".join(map(str, config))], capture_output=True, text=True,
        timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe of {name} failed:\n"
                           + proc.stderr[-2000:])
    return float(proc.stdout.split()[-1])


def memory_probe(cell, name, config):
    x, weights = problem(config, cell)
    if name == "block":
        step = block_lstm_candidates(x, weights)["f+b"]
    else:
        classes = dict(zip(("tfrnn", "keras"), CELLS[cell]))
        step = layer_candidates(classes[name], x, weights)["f+b"]
    step.get_concrete_function(x)  # traced, not run
    baseline = peak = resident_bytes()
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, resident_bytes())
            time.sleep(0.0002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    time_call(step, x)
    done.set()
    sampler.join()
    print((max(peak, resident_bytes()) - baseline) / 2 ** 20)


def plot(results, cell, path):
    """Bar chart of the speed-ups over each anchor, per config and pass."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("--plot needs matplotlib: pip install 'tfrnn[bench]'")
    labels = [f"{','.join(map(str, r['config']))}\n{p}" for r in results
              for p in PASSES]
    anchors = [a for a in ANCHORS
               if any(f"{a} fwd" in r["ms"] for r in results)]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(labels)), 4))
    width = 0.8 / max(1, len(anchors))
    for k, anchor in enumerate(anchors):
        ratios = [r["ms"].get(f"{anchor} {p}", float("nan"))
                  / r["ms"][f"tfrnn {p}"] for r in results for p in PASSES]
        ax.bar(np.arange(len(labels)) + k * width, ratios, width,
               label=f"{anchor} / tfrnn")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(np.arange(len(labels)) + width * (len(anchors) - 1) / 2)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("time of other / time of tfrnn (above 1: tfrnn faster)")
    ax.set_title(f"{cell.upper()} float32, B,T,I,H")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def common_options(parser, rounds):
    """The options every benchmark here takes: rounds, warm-up, configs,
    a JSON copy of the results."""
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--configs", nargs="*",
                        help="B,T,I,H (default: the four of DESIGN.md)")
    parser.add_argument("--json", help="also write the results here")


def configs_and_op(parser, args):
    """The --configs asked for (parser.error if malformed); exits when the
    compiled op is not loaded."""
    configs = bench_configs.parse(parser, args.configs, DEFAULT_CONFIGS)
    if not tfrnn.ops.custom_ops_available():
        sys.exit("the compiled op is not loaded; build it with "
                 "pip install -e .")
    return configs


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [MEMORY_PROBE]:
        memory_probe(argv[1], argv[2], tuple(int(v) for v in
                                             argv[3].split(",")))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_options(parser, rounds=15)
    parser.add_argument("--cell", choices=sorted(CELLS), default="lstm")
    parser.add_argument("--memory", action="store_true",
                        help="also measure the resident memory a training "
                        "step adds (TF candidates, fresh processes)")
    parser.add_argument("--plot", help="write a PNG of the speed-ups here")
    args = parser.parse_args(argv)
    configs = configs_and_op(parser, args)

    peak = gemm_peak()
    print(f"{args.cell.upper()}: TensorFlow {tf.__version__}, Keras "
          f"{keras.__version__}, {os.cpu_count()} CPUs, float32, median of "
          f"{args.rounds} rounds (ms); GEMM peak {peak:.0f} GFLOP/s "
          "(tf.matmul 4096^3)", flush=True)
    header = (f"{'B,T,I,H':>16} {'pass':>4} | {'tfrnn':>7} {'keras':>7} "
              f"{'block':>7} {'torch':>7} | {'x keras':>7} {'x block':>7} "
              f"{'x torch':>7} | {'GFLOP/s':>7} {'%peak':>5}")
    if args.memory:
        header += f" | {'MiB tfrnn':>9} {'keras':>6} {'block':>6}"
    print(header)
    print("-" * len(header))
    results = []
    nan = float("nan")
    for config in configs:
        ms, memory = bench_config(config, args.rounds, args.warmup,
                                  args.cell, args.memory)
        ms = {f"{name} {p}": v for (name, p), v in ms.items()}
        results.append({"config": config, "ms": ms, "gemm_peak": peak,
                        "memory_mib": memory})
        for p in PASSES:
            ours = ms[f"tfrnn {p}"]
            gflops = flops(config, args.cell, p == "f+b") / (ours * 1e-3) / 1e9
            line = (f"{','.join(map(str, config)) if p == 'fwd' else '':>16} "
                    f"{p:>4} | {ours:7.2f} "
                    + " ".join(f"{ms.get(f'{a} {p}', nan):7.2f}"
                               for a in ANCHORS)
                    + " | " + " ".join(
                        f"{ms.get(f'{a} {p}', nan) / ours:7.2f}"
                        for a in ANCHORS)
                    + f" | {gflops:7.1f} {100 * gflops / peak:5.1f}")
            if args.memory:
                line += " | " + (f"{memory['tfrnn']:9.1f} " + " ".join(
                    f"{memory.get(a, nan):6.1f}" for a in ANCHORS[:2])
                    if p == "f+b" else "")
            print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    if args.plot:
        plot(results, args.cell, args.plot)
        print(f"plot written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
