"""How far an LSTM's outputs move under each way issue 30 could round to
bfloat16 (numpy emulation; no op runs): the measurement behind the choice
between the whole-sequence GEMMs as TensorFlow MatMuls around the op (whose
CPU kernel rounds a bfloat16 product to bfloat16) and a GEMM library inside
the op (float32 products).

    python benchmarks/bf16_rounding_probe.py [--configs 32,100,128,256 ...]
                                             [--seed 0]

Every candidate runs the same LSTM forward (Keras's gate order, glorot
kernel, orthogonal recurrent kernel, unit forget bias, x ~ N(0, 1)); the
reference is float64 on the bfloat16-rounded operands (x, W, U, and each
step's h_{t-1} before h.U), which is what the issue's bound is stated
against. Candidates:
  f32 ops     the float32 op today (operands not rounded): what rounding
              the operands alone costs
  bf16, f32 products     operands rounded, products accumulated and kept in
              float32, gate math float32 (a GEMM library inside the op)
  bf16, x.W rounded      the same, but x.W's product rounded to bfloat16
              (TensorFlow's CPU MatMul around the op); h.U in float32
  all bf16    every product and every gate value rounded to bfloat16 (what
              a layer computing in bfloat16 throughout does)
For each: the largest |output - reference| over all steps and the median,
relative to the outputs' RMS.
"""

import argparse

import numpy as np

from tfrnn.bench.configs import parse

DEFAULT_CONFIGS = [(32, 100, 128, 256), (16, 200, 64, 512)]


def bf16(a):
    """a rounded to bfloat16 (nearest, ties to even), as float32."""
    a = np.asarray(a, np.float32)
    u = a.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def weights(I, H, rng):
    """Keras's LSTM initialisation: glorot W, orthogonal U, forget bias 1."""
    limit = np.sqrt(6.0 / (I + 4 * H))
    W = rng.uniform(-limit, limit, (I, 4 * H))
    q, r = np.linalg.qr(rng.standard_normal((4 * H, H)))
    U = (q * np.sign(np.diag(r))).T
    b = np.zeros(4 * H)
    b[H:2 * H] = 1.0
    return W, U, b


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm(x, W, U, b, dtype, round_operands, round_xw, round_all):
    """The forward's outputs [B,T,H] in `dtype`, rounding as asked."""
    keep = bf16 if round_operands else (lambda a: a)
    every = bf16 if round_all else (lambda a: a)
    x, W, U, b = (np.asarray(a, dtype) for a in (x, W, U, b))
    if round_operands:
        x, W, U = (keep(a).astype(dtype) for a in (x, W, U))
    B, T, _ = x.shape
    H = U.shape[0]
    xw = np.einsum("bti,ig->btg", x, W)
    if round_xw or round_all:
        xw = bf16(xw).astype(dtype)
    h = np.zeros((B, H), dtype)
    c = np.zeros((B, H), dtype)
    outputs = np.empty((B, T, H), dtype)
    for t in range(T):
        hu = every(keep(h).astype(dtype) @ U).astype(dtype)
        z = every(xw[:, t] + hu + b).astype(dtype)
        i, f = every(sigmoid(z[:, :H])), every(sigmoid(z[:, H:2 * H]))
        g, o = every(np.tanh(z[:, 2 * H:3 * H])), every(sigmoid(z[:, 3 * H:]))
        c = every(f * c + i * g).astype(dtype)
        h = every(o * np.tanh(c)).astype(dtype)
        outputs[:, t] = h
    return outputs


CANDIDATES = {
    "f32 ops": dict(dtype=np.float32, round_operands=False, round_xw=False,
                    round_all=False),
    "bf16, f32 products": dict(dtype=np.float32, round_operands=True,
                               round_xw=False, round_all=False),
    "bf16, x.W rounded": dict(dtype=np.float32, round_operands=True,
                              round_xw=True, round_all=False),
    "all bf16": dict(dtype=np.float32, round_operands=True, round_xw=True,
                     round_all=True),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    configs = parse(parser, args.configs, DEFAULT_CONFIGS)
    print("errors relative to the outputs' RMS; reference: float64 on the "
          "bfloat16-rounded operands")
    print(f"{'B,T,I,H':>16} {'candidate':>20} | {'max':>9} {'median':>9}")
    for B, T, I, H in configs:
        rng = np.random.default_rng(args.seed)
        W, U, b = weights(I, H, rng)
        x = rng.standard_normal((B, T, I))
        ref = lstm(x, W, U, b, np.float64, True, False, False)
        rms = np.sqrt(np.mean(ref ** 2))
        for name, how in CANDIDATES.items():
            err = np.abs(lstm(x, W, U, b, **how) - ref) / rms
            print(f"{f'{B},{T},{I},{H}':>16} {name:>20} | "
                  f"{err.max():9.2e} {np.median(err):9.2e}", flush=True)


if __name__ == "__main__":
    main()
