"""Fused LSTM (or GRU) speed against Keras's layer, measured in one process.

For each config (batch-major B, T, I, H; float32) it times a forward pass
(inference) and a forward+backward pass (gradients of sum(outputs) w.r.t.
inputs and weights), for tfrnn's LSTM and Keras's LSTM with the same weights,
plus TensorFlow's fused BlockLSTMV2 forward as a second anchor. Candidates
are interleaved round by round so machine noise hits all alike; the table
shows medians in ms and the ratios Keras / tfrnn and torch / tfrnn (above 1:
tfrnn is faster). torch.nn.LSTM/GRU (oneDNN) is timed too when torch is
installed (`pip install torch` for the CPU build), in its own phase after
the TensorFlow candidates (the two runtimes' thread pools disturb each other
when interleaved).

    python benchmarks/lstm_bench.py [--rounds 20] [--configs 32,100,128,128 ...]
    python benchmarks/lstm_bench.py --cell gru     # tfrnn GRU vs Keras GRU
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

import tfrnn  # noqa: E402

# The four configs of DESIGN.md: (B, T, I, H).
DEFAULT_CONFIGS = [(32, 100, 128, 128), (64, 100, 256, 256),
                   (16, 200, 64, 512), (1, 500, 64, 256)]


def keras_candidates(layer_class, x, weights):
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

    return forward, forward_backward


def block_lstm_forward(x, weights):
    """TF's own fused LSTM forward (time-major). BlockLSTMV2 takes
    [I+H, 4H] in Keras's gate order i, f, c, o (BlockLSTM, V1, takes
    i, c, f, o; see tfrnn.interop)."""
    kernel, recurrent, bias = weights
    units = recurrent.shape[0]
    w = tf.constant(np.concatenate([kernel, recurrent]))
    b = tf.constant(bias)
    batch = x.shape[0]
    zeros = tf.zeros([batch, units])
    peephole = tf.zeros([units])

    @tf.function
    def forward(x):
        outputs = tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.cast(tf.shape(x)[1], tf.int64),
            x=tf.transpose(x, [1, 0, 2]), cs_prev=zeros, h_prev=zeros, w=w,
            wci=peephole, wcf=peephole, wco=peephole, b=b, cell_clip=0.0,
            use_peephole=False)
        return tf.transpose(outputs[-1], [1, 0, 2])

    return forward


def torch_candidates(cell, x, weights):
    """torch.nn.LSTM/GRU (batch_first, oneDNN on CPU) with the same weights,
    or {} when torch is not installed."""
    try:
        import torch
    except ImportError:
        return {}
    from tfrnn import interop
    torch.set_num_threads(os.cpu_count())
    units = weights[1].shape[0]
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        x.shape[-1], units, batch_first=True)
    state = interop.to_torch({(0, "forward"): weights}, cell)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    tx = torch.from_numpy(x.numpy())

    def forward(_):
        with torch.no_grad():
            return tf.constant(module(tx)[0].numpy())

    def forward_backward(_):
        xg = tx.clone().requires_grad_(True)
        module.zero_grad()
        module(xg)[0].sum().backward()
        return tf.constant(xg.grad.numpy())

    np.testing.assert_allclose(module(tx)[0].detach().numpy(),
                               keras_candidates(CELLS[cell][0], x, weights)[0](
                                   x).numpy(), atol=1e-4)
    return {"torch fwd": forward, "torch fwd+bwd": forward_backward}


def time_call(fn, x):
    start = time.perf_counter()
    result = fn(x)
    tf.nest.map_structure(lambda t: t.numpy(), result)  # wait for it
    return (time.perf_counter() - start) * 1e3


# cell -> (tfrnn layer, Keras layer)
CELLS = {"lstm": (tfrnn.layers.LSTM, keras.layers.LSTM),
         "gru": (tfrnn.layers.GRU, keras.layers.GRU)}


def bench_config(config, rounds, warmup, cell="lstm"):
    batch, steps, features, units = config
    ours_class, keras_class = CELLS[cell]
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((batch, steps, features)), tf.float32)
    reference = keras_class(units)
    reference.build(x.shape)
    weights = reference.get_weights()
    tf_fwd, tf_fb = keras_candidates(ours_class, x, weights)
    k_fwd, k_fb = keras_candidates(keras_class, x, weights)
    candidates = {"tfrnn fwd": tf_fwd, "keras fwd": k_fwd,
                  "tfrnn fwd+bwd": tf_fb, "keras fwd+bwd": k_fb}
    if cell == "lstm":
        candidates["blocklstm fwd"] = block_lstm_forward(x, weights)
    np.testing.assert_allclose(tf_fwd(x), k_fwd(x), atol=1e-4)  # same task
    times = interleaved_medians(candidates, x, rounds, warmup)
    # torch runs after, on its own: its OpenMP threads spin after each call
    # and TF's park while they do, so interleaving the two runtimes slows
    # whichever runs second (+45% on tfrnn's forward at B32 T100 I128 H128).
    times.update(interleaved_medians(torch_candidates(cell, x, weights), x,
                                     rounds, warmup))
    return times


def interleaved_medians(candidates, x, rounds, warmup):
    """Median ms of each candidate, timed round by round in turn."""
    times = {name: [] for name in candidates}
    for r in range(warmup + rounds):
        for name, fn in candidates.items():
            elapsed = time_call(fn, x)
            if r >= warmup:
                times[name].append(elapsed)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--configs", nargs="*",
                        help="B,T,I,H (default: the four of DESIGN.md)")
    parser.add_argument("--cell", choices=sorted(CELLS), default="lstm")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    configs = ([tuple(int(v) for v in c.split(",")) for c in args.configs]
               if args.configs else DEFAULT_CONFIGS)
    if not tfrnn.ops.custom_ops_available():
        sys.exit("the compiled op is not loaded; build it with pip install -e .")

    print(f"{args.cell.upper()}: TensorFlow {tf.__version__}, Keras "
          f"{keras.__version__}, {os.cpu_count()} CPUs, float32, median of "
          f"{args.rounds} rounds (ms)", flush=True)
    header = (f"{'B,T,I,H':>16} | {'tfrnn fwd':>9} {'keras':>8} {'block':>8} "
              f"{'torch':>8} {'x keras':>7} {'x torch':>7} | {'tfrnn f+b':>9} "
              f"{'keras':>8} {'torch':>8} {'x keras':>7} {'x torch':>7}")
    print(header)
    print("-" * len(header))
    results = []
    for config in configs:
        m = bench_config(config, args.rounds, args.warmup, args.cell)
        results.append({"config": config, "ms": m})
        nan = float("nan")
        print(f"{','.join(map(str, config)):>16} | {m['tfrnn fwd']:9.2f} "
              f"{m['keras fwd']:8.2f} {m.get('blocklstm fwd', nan):8.2f} "
              f"{m.get('torch fwd', nan):8.2f} "
              f"{m['keras fwd'] / m['tfrnn fwd']:7.2f} "
              f"{m.get('torch fwd', nan) / m['tfrnn fwd']:7.2f} | "
              f"{m['tfrnn fwd+bwd']:9.2f} {m['keras fwd+bwd']:8.2f} "
              f"{m.get('torch fwd+bwd', nan):8.2f} "
              f"{m['keras fwd+bwd'] / m['tfrnn fwd+bwd']:7.2f} "
              f"{m.get('torch fwd+bwd', nan) / m['tfrnn fwd+bwd']:7.2f}",
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
