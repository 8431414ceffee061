"""Masks on the fused op: forward+backward ms of tfrnn's layer with no mask,
a right-padded, a left-padded and a holed mask, and Keras's own layer (its
step loop: what tfrnn ran for masks other than right padding before they
were fused) with the holed mask, interleaved in one process at the four
configurations. Prints each against tfrnn's right-padded time.

    python benchmarks/mask_bench.py [--cell lstm|gru|rnn] [--rounds 7]
"""

import argparse
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfrnn.bench import speed as bench  # noqa: E402

tf.get_logger().setLevel("ERROR")  # one tf.function per candidate, by design


def masks(batch, steps, rng):
    """{name: [B,T] bool}: the same lengths (T/2..T) right- and
    left-padded; holes: a fifth of the steps masked anywhere."""
    lengths = rng.integers(steps // 2, steps + 1, batch)
    right = np.arange(steps)[None, :] < lengths[:, None]
    return {"right": right, "left": right[:, ::-1].copy(),
            "holes": rng.random((batch, steps)) > 0.2}


def masked_forward_backward(layer_class, x, weights, mask):
    layer = layer_class(weights[1].shape[0], return_sequences=True)
    layer.build(x.shape)
    layer.set_weights(weights)
    mask = None if mask is None else tf.constant(mask)

    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, mask=mask, training=True))
        return tape.gradient(loss, [x] + layer.trainable_weights)

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cell", choices=sorted(bench.CELLS),
                        default="lstm")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    ours, theirs = bench.CELLS[args.cell][:2]
    rng = np.random.default_rng(0)
    print(f"{args.cell}, forward+backward ms (ratio to tfrnn right-padded)")
    for config in bench.DEFAULT_CONFIGS:
        x, weights = bench.problem(config, args.cell)
        cases = {"none": None, **masks(config[0], config[1], rng)}
        fns = {f"tfrnn {name}": masked_forward_backward(ours, x, weights, m)
               for name, m in cases.items()}
        fns["keras holes"] = masked_forward_backward(theirs, x, weights,
                                                     cases["holes"])
        ms = bench.interleaved_medians(fns, x, args.rounds, args.warmup)
        base = ms["tfrnn right"]
        print(f"  {config}: " + "  ".join(
            f"{k} {v:.1f} ({v / base:.2f}x)" for k, v in ms.items()),
            flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
