"""What the benchmarks' command lines share: their --configs (B,T,I,H: batch,
steps, input features, units) and the GEMMs of one LSTM call at a config."""


def parse(parser, texts, default):
    """The --configs given (`texts`, "B,T,I,H" each) as int tuples, or
    `default` when none; parser.error for a malformed one."""
    try:
        configs = ([tuple(int(v) for v in c.split(",")) for c in texts]
                   if texts else list(default))
        if any(len(c) != 4 or min(c) < 1 for c in configs):
            raise ValueError
    except ValueError:
        parser.error("--configs takes B,T,I,H with four positive integers")
    return configs


def lstm_gemms(B, T, I, H):
    """(m, k, n) of an LSTM call's GEMMs (4 gates): the hoisted x.W, once a
    call; the recurrent h.U, once a step; a weight gradient dW, once a
    call."""
    return {"x.W": (B * T, I, 4 * H), "h.U": (B, H, 4 * H),
            "dW": (I, B * T, 4 * H)}
