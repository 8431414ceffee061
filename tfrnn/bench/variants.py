"""`tfrnn bench --variant`: the LSTM's options and masks against the plain
fused LSTM, measured in one process.

For each config (batch-major B, T, I, H; float32) and variant it times a
training step, forward + backward (gradients of sum(outputs) w.r.t. the
inputs and weights), of:
  plain   tfrnn.layers.LSTM without options (for a mask variant: with a
          right-padded mask of the same row lengths)
  fused   tfrnn.layers.LSTM with the variant (what the layer runs now)
  loop    the same weights in keras.layers.RNN: Keras's step loop, the path
          every variant took before it joined the fused op (the options'
          step in stock ops; a mask's over the fused step op)
interleaved round by round, medians. It prints fused / plain (issue 17's
targets: at most 1.3 for an option, 1.1 for a mask) and loop / fused
(above 1: the fused path is faster), and fused's GFLOP/s as a share of the
GEMM peak measured in the same run. proj_size runs the fused op too, with
P = H / 2.

    tfrnn bench --variant all|peephole|cell_clip|zoneout|layer_norm|...
                [--rounds 7] [--configs 32,100,128,256 ...] [--json F]
"""

import argparse
import json
import sys

import numpy as np
import tensorflow as tf
import keras

from tfrnn.bench.speed import (DEFAULT_CONFIGS, common_options, configs_and_op,
                         flops, gemm_peak, interleaved_medians)
from tfrnn.layers import LSTM, LSTMCell, lstm_options

# name -> layer options given the units H.
OPTION_VARIANTS = {
    "peephole": lambda h: dict(peephole=True),
    "cell_clip": lambda h: dict(cell_clip=3.0),
    "zoneout": lambda h: dict(zoneout_h=0.1, zoneout_c=0.1),
    "op_options": lambda h: dict(peephole=True, cell_clip=3.0,
                                 zoneout_h=0.1, zoneout_c=0.1),
    "layer_norm": lambda h: dict(layer_norm=True),
    "proj_size": lambda h: dict(proj_size=h // 2),
}
MASK_VARIANTS = ("left_padding", "holes")
VARIANTS = tuple(OPTION_VARIANTS) + MASK_VARIANTS


class StockStepCell(LSTMCell):
    """LSTMCell stepping its options in stock ops, as it did before they
    joined the ops (no dropout here)."""

    def call(self, inputs, states, training=False):
        h_prev, c = states
        h, c = lstm_options.options_step(self, inputs, h_prev, h_prev, c,
                                         training)
        return h, [h, c]


def masks(batch, steps, kind, seed=0):
    """(right-padded mask, the variant's mask) with equal row lengths in
    [T/2, T]: left padding, or the same count of steps kept at random."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(steps // 2, steps + 1, batch)
    right = np.arange(steps)[None, :] < lengths[:, None]
    if kind == "left_padding":
        other = right[:, ::-1]
    else:
        other = np.zeros_like(right)
        for b, n in enumerate(lengths):
            other[b, rng.choice(steps, n, replace=False)] = True
    return tf.constant(right), tf.constant(other)


def training_step(layer, x, mask):
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, mask=mask, training=True)[0])
        return tape.gradient(loss, [x] + layer.trainable_weights)
    return step


def candidates(variant, config):
    """{name: training step} of plain, fused and loop for one variant."""
    batch, steps, features, units = config
    x = tf.constant(np.random.default_rng(0).standard_normal(
        (batch, steps, features)), tf.float32)
    options = OPTION_VARIANTS.get(variant, lambda h: {})(units)
    plain_mask = variant_mask = None
    if variant in MASK_VARIANTS:
        plain_mask, variant_mask = masks(batch, steps, variant)
    plain = LSTM(units, return_sequences=True, return_state=True)
    fused = LSTM(units, return_sequences=True, return_state=True, **options)
    for layer in (plain, fused):
        layer(x)
    cell_class = StockStepCell if options else LSTMCell
    loop = keras.layers.RNN(cell_class.from_config(fused.cell.get_config()),
                            return_sequences=True, return_state=True)
    loop(x)
    loop.set_weights(fused.get_weights())
    return x, {"plain": training_step(plain, x, plain_mask),
               "fused": training_step(fused, x, variant_mask),
               "loop": training_step(loop, x, variant_mask)}


def run(variants, configs=None, rounds=7, warmup=2):
    """Prints the table; returns [{config, variant, ms: {name: ms}}]."""
    configs = configs or DEFAULT_CONFIGS
    peak = gemm_peak()
    print(f"LSTM variants, forward+backward, float32, median of {rounds} "
          f"rounds (ms); GEMM peak {peak:.0f} GFLOP/s (tf.matmul 4096^3)",
          flush=True)
    header = (f"{'B,T,I,H':>16} {'variant':>12} | {'plain':>8} {'fused':>8} "
              f"{'loop':>8} | {'fused/plain':>11} {'loop/fused':>10} | "
              f"{'%peak':>5}")
    print(header)
    print("-" * len(header))
    results = []
    for config in configs:
        for variant in variants:
            x, fns = candidates(variant, config)
            ms = interleaved_medians(fns, x, rounds, warmup)
            results.append({"config": config, "variant": variant, "ms": ms})
            gflops = flops(config, "lstm", True) / (ms["fused"] * 1e-3) / 1e9
            print(f"{','.join(map(str, config)):>16} {variant:>12} | "
                  f"{ms['plain']:8.2f} {ms['fused']:8.2f} {ms['loop']:8.2f} "
                  f"| {ms['fused'] / ms['plain']:11.2f} "
                  f"{ms['loop'] / ms['fused']:10.2f} | "
                  f"{100 * gflops / peak:5.1f}", flush=True)
    return results


def main(argv=None):
    """tfrnn bench --variant NAME... [--rounds N] [--configs ...]"""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="tfrnn bench --variant",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--variant", nargs="+", required=True,
                        metavar="NAME", help="all, or any of "
                        + ", ".join(VARIANTS))
    common_options(parser, rounds=7)
    args = parser.parse_args(argv)
    names = list(VARIANTS) if args.variant == ["all"] else args.variant
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown --variant {', '.join(unknown)}")
    results = run(names, configs_and_op(parser, args), args.rounds,
                  args.warmup)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
