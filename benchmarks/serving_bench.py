"""Served speed of a CharLSTM export, where TF Serving runs it.

    python benchmarks/serving_bench.py [--units 256] [--layers 2]
        [--cell lstm|gru|rnn] [--repeats 5] [--configs 32,500 1,500 64,100]

Exports the same weights twice with tfrnn.export.export_for_serving: on
tfrnn's LSTM layers, and on keras.layers.LSTM (CharLSTM(rnn="keras")). It
loads each export in a fresh process that never imports tfrnn, through the
TF1 session loader (tf.compat.v1.saved_model.loader.load, what TF Serving's
SavedModelBundle runs, Grappler included). In that process it times
`score` on B texts of T characters for each config, and `generate` of 200
characters at B = 1. The same model in-process, on the fused op, is timed
on the same work. Each figure is the median of --repeats calls after two
warm-up calls. The machine's fp32 GEMM rate (tf.matmul 2048^3) is measured
in the same run, as an anchor.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import tensorflow as tf

# The served side, run as `python -c` with the export's path: loads it with
# the TF1 session loader and times its signatures; prints one JSON line.
SERVER = textwrap.dedent("""
    import json, statistics, sys, time
    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    path, work = sys.argv[1], json.loads(sys.argv[2])
    session = tf.compat.v1.Session()
    meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], path)

    def timed(signature, feeds, fetch, repeats):
        sig = meta.signature_def[signature]
        feed = {sig.inputs[k].name: v for k, v in feeds.items()}
        out = sig.outputs[fetch].name
        for _ in range(2):
            session.run(out, feed)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            session.run(out, feed)
            times.append((time.perf_counter() - start) * 1e3)
        return statistics.median(times)

    result = {"score": [timed("score", {"text": texts}, "log_likelihood",
                              work["repeats"]) for texts in work["texts"]],
              "generate": timed("generate", {
                  "prompt": [work["prompt"]], "max_length": 200,
                  "temperature": 1.0, "seed": 0}, "text", work["repeats"]),
              "tfrnn_imported": "tfrnn" in sys.modules}
    print("RESULT" + json.dumps(result))
""")


def median_ms(fn, repeats):
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def gemm_gflops(repeats):
    a = tf.random.normal([2048, 2048])
    ms = median_ms(lambda: tf.matmul(a, a).numpy(), repeats)
    return 2 * 2048 ** 3 / ms / 1e6


def served(path, work):
    """The served timings of the export at `path` (a fresh process)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, "-c", SERVER, path, json.dumps(work)],
        capture_output=True, text=True, env=env, check=True)
    line = next(l for l in result.stdout.splitlines()
                if l.startswith("RESULT"))
    timings = json.loads(line[len("RESULT"):])
    assert not timings["tfrnn_imported"], "the server imported tfrnn"
    return timings


def models(units, layers, tokens, cell="lstm"):
    """The same random weights on tfrnn's layers and on Keras's."""
    from tfrnn.zoo import CharLSTM
    fused = CharLSTM(tokens, units=units, num_layers=layers, cell=cell)
    fused(tf.zeros([1, 2], tf.int32))
    plain = CharLSTM(tokens, units=units, num_layers=layers, rnn="keras",
                     cell=cell)
    plain(tf.zeros([1, 2], tf.int32))
    plain.set_weights(fused.get_weights())
    return fused, plain


def in_process(model, texts, prompt, repeats):
    """The served work on the fused model in this process: the score's
    log-likelihood of each batch, and generate's 200 characters."""
    score = tf.function(model.log_likelihood, reduce_retracing=True)
    batches = []
    for batch in texts:
        ids = model.vocabulary.encode(batch)
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        batches.append((tf.pad(ids.to_tensor(), [[0, 0], [0, 2]]), lengths))
    return {"score": [median_ms(lambda b=b: [t.numpy() for t in score(*b)],
                                repeats) for b in batches],
            "generate": median_ms(lambda: model.generate(prompt, 200),
                                  repeats)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--cell", choices=["lstm", "gru", "rnn"],
                        default="lstm")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--configs", nargs="+",
                        default=["32,500", "1,500", "64,100"],
                        help="B,T: texts per request, characters per text")
    args = parser.parse_args(argv)
    configs = [tuple(int(n) for n in c.split(",")) for c in args.configs]
    tokens = list("abcdefghijklmnopqrstuvwxyz ,.;:!?'ABCDEFGHIJKLMNOPQRSTUVW"
                  "XYZ\n")
    rng = np.random.default_rng(0)
    texts = [["".join(rng.choice(tokens[:-1], T)) for _ in range(B)]
             for B, T in configs]
    work = {"texts": texts, "prompt": "ROMEO:", "repeats": args.repeats}
    fused, plain = models(args.units, args.layers, tokens, args.cell)
    from tfrnn.export import export_for_serving
    root = tempfile.mkdtemp(prefix="serving_bench_")
    timings = {name: served(export_for_serving(model, root, name), work)
               for name, model in (("tfrnn", fused), ("keras", plain))}
    timings["fused"] = in_process(fused, texts, work["prompt"],
                                  args.repeats)
    print(f"CharLSTM {args.layers} x {args.units} {args.cell}; served: "
          f"TF1 session loader, a process without tfrnn; fp32 GEMM here "
          f"{gemm_gflops(args.repeats):.0f} GFLOP/s (tf.matmul 2048^3)")
    print(f"{'work':24} {'tfrnn export':>12} {'Keras-layer':>12} "
          f"{'fused':>8} {'Keras/tfrnn':>11} {'tfrnn/fused':>11}")
    rows = [(f"score B{B} T{T}", k) for k, (B, T) in enumerate(configs)]
    for label, key in rows + [("generate 200, B1", None)]:
        ours, theirs, fast = (
            timings[n]["score"][key] if key is not None
            else timings[n]["generate"] for n in ("tfrnn", "keras", "fused"))
        print(f"{label:24} {ours:10.1f}ms {theirs:10.1f}ms {fast:6.1f}ms "
              f"{theirs / ours:10.2f}x {ours / fast:10.2f}x")


if __name__ == "__main__":
    main()
