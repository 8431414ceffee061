"""Weight conversion between tfrnn/Keras layouts and PyTorch / TF BlockLSTM.

Keras layout (what tfrnn's layers hold, see `layer.get_weights()`):
- LSTM: kernel [I,4H], recurrent_kernel [H,4H], bias [4H]; gates i, f, c, o.
- GRU (reset_after=True): kernel [I,3H], recurrent_kernel [H,3H],
  bias [2,3H] (input, recurrent); gates z, r, h.
- SimpleRNN: kernel [I,H], recurrent_kernel [H,H], bias [H].

PyTorch (`nn.LSTM`, `nn.GRU`, `nn.RNN` state dicts as numpy arrays):
weight_ih_l{k}[_reverse] [G*H, I], weight_hh_l{k}[_reverse] [G*H, H],
bias_ih / bias_hh [G*H]. LSTM gates i, f, g, o (Keras's order; the two biases
add); GRU gates r, z, n (reordered here; the two biases map to Keras's two
rows, PyTorch's GRU being the reset_after variant). An LSTM with proj_size P
has weight_hh [4H, P] and weight_hr [P, H], which becomes the
projection_kernel [H, P] of `tfrnn.layers.LSTM(units, proj_size=P)`.

Conversions return {(layer, direction): weights}, direction "forward" or
"backward", ready for `set_weights` on the matching tfrnn/Keras layer.
"""

import re

import numpy as np

from tfrnn.cells import TORCH_MODES

MODES = tuple(TORCH_MODES)
_KEY = re.compile(r"^(weight|bias)_(ih|hh|hr)_l(\d+)(_reverse)?$")


def _check_mode(mode):
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def _torch_gru_to_keras_order(a, units):
    """r, z, n blocks (along axis 0) -> z, r, n."""
    r, z, n = np.split(np.asarray(a), 3, axis=0)
    return np.concatenate([z, r, n], axis=0)


def _keras_gru_to_torch_order(a, units):
    z, r, n = np.split(np.asarray(a), 3, axis=0)
    return np.concatenate([r, z, n], axis=0)


def _check_group(where, g, mode):
    """Raises ValueError unless one layer's and direction's tensors are
    numbers of torch's shapes for `mode`: weight_ih [G*H, I], weight_hh
    [G*H, H] (or [4H, P] with weight_hr [P, H]), both biases [G*H] or
    neither."""
    for key, value in g.items():
        rank = 1 if key.startswith("bias") else 2
        if value.dtype.kind not in "fiu" or value.ndim != rank:
            raise ValueError(
                f"layer {where}: {key} must be a rank-{rank} array of "
                f"numbers, got shape {value.shape} of {value.dtype}")
    gates = TORCH_MODES[mode].gates
    rows = g["weight_hh"].shape[0]
    units = rows // gates
    width = g["weight_hr"].shape[0] if "weight_hr" in g else units
    if rows % gates or g["weight_hh"].shape != (gates * units, width):
        raise ValueError(f"layer {where}: weight_hh has shape "
                         f"{g['weight_hh'].shape}, expected [{gates}H, H] "
                         f"(or [4H, P] with weight_hr [P, H]) for mode "
                         f"{mode!r}")
    expected = {"weight_ih": (rows, g["weight_ih"].shape[1]),
                "bias_ih": (rows,), "bias_hh": (rows,),
                "weight_hr": (width, units)}
    for key, shape in expected.items():
        if key in g and g[key].shape != shape:
            raise ValueError(f"layer {where}: {key} has shape "
                             f"{g[key].shape}, expected {shape} (H = "
                             f"{units})")
    if ("bias_ih" in g) != ("bias_hh" in g):
        raise ValueError(f"layer {where}: give both bias_ih and bias_hh, or "
                         "neither (bias=False)")


def from_torch(state_dict, mode):
    """PyTorch recurrent state dict -> {(layer, direction): Keras weights}.

    Works for any num_layers and bidirectional; a model saved with
    bias=False gives [kernel, recurrent_kernel] (use use_bias=False); an
    LSTM with proj_size adds projection_kernel last.
    """
    _check_mode(mode)
    groups = {}
    for key, value in state_dict.items():
        key = key.split(".")[-1]  # accept "rnn.weight_ih_l0" too
        if key.startswith("weight_hr") and mode != "lstm":
            raise ValueError("weight_hr (proj_size) exists for LSTMs only")
        match = _KEY.match(key)
        if match is None:
            raise ValueError(f"not a recurrent weight name: {key!r}")
        kind, side, layer, reverse = match.groups()
        direction = "backward" if reverse else "forward"
        groups.setdefault((int(layer), direction), {})[kind + "_" + side] = \
            np.asarray(value)
    converted = {}
    for where, g in sorted(groups.items()):
        if "weight_ih" not in g or "weight_hh" not in g:
            raise ValueError(f"layer {where} lacks weight_ih or weight_hh")
        _check_group(where, g, mode)
        w_ih, w_hh = g["weight_ih"], g["weight_hh"]
        units = w_hh.shape[0] // TORCH_MODES[mode].gates
        has_bias = "bias_ih" in g
        if mode == "gru":
            kernel = _torch_gru_to_keras_order(w_ih, units).T
            recurrent = _torch_gru_to_keras_order(w_hh, units).T
            weights = [kernel, recurrent]
            if has_bias:
                weights.append(np.stack([
                    _torch_gru_to_keras_order(g["bias_ih"], units),
                    _torch_gru_to_keras_order(g["bias_hh"], units)]))
        else:
            weights = [w_ih.T, w_hh.T]
            if has_bias:
                weights.append(g["bias_ih"] + g["bias_hh"])
            if "weight_hr" in g:
                weights.append(g["weight_hr"].T)
        converted[where] = [np.ascontiguousarray(w) for w in weights]
    return converted


def to_torch(weights_by_layer, mode):
    """{(layer, direction): Keras weights} -> PyTorch state dict (numpy).

    Keras has one LSTM/RNN bias where PyTorch has two: it goes to bias_ih and
    bias_hh is zero (their sum is what both frameworks use).
    """
    _check_mode(mode)
    state = {}
    for (layer, direction), weights in sorted(weights_by_layer.items()):
        suffix = f"_l{layer}" + ("_reverse" if direction == "backward" else "")
        kernel, recurrent = weights[0], weights[1]
        units = recurrent.shape[0]
        if mode == "gru":
            state["weight_ih" + suffix] = _keras_gru_to_torch_order(
                kernel.T, units)
            state["weight_hh" + suffix] = _keras_gru_to_torch_order(
                recurrent.T, units)
            if len(weights) > 2:
                bias = np.asarray(weights[2])
                state["bias_ih" + suffix] = _keras_gru_to_torch_order(
                    bias[0], units)
                state["bias_hh" + suffix] = _keras_gru_to_torch_order(
                    bias[1], units)
        else:
            state["weight_ih" + suffix] = np.asarray(kernel).T
            state["weight_hh" + suffix] = np.asarray(recurrent).T
            rest = [np.asarray(w) for w in weights[2:]]
            for bias in (w for w in rest if w.ndim == 1):
                state["bias_ih" + suffix] = bias
                state["bias_hh" + suffix] = np.zeros_like(bias)
            for projection in (w for w in rest if w.ndim == 2):
                state["weight_hr" + suffix] = projection.T
    return {k: np.ascontiguousarray(v) for k, v in state.items()}


def from_block_lstm(w, b, forget_bias=1.0):
    """TF BlockLSTM / LSTMBlockCell weights -> Keras LSTM weights.

    w: [I+H, 4H] and b: [4H] in gate order i, c, f, o (the V1 op;
    BlockLSTMV2 already takes Keras's order i, f, c, o and no forget_bias:
    w = concat([kernel, recurrent_kernel]), b = bias). BlockLSTM adds
    `forget_bias` (LSTMBlockCell's default 1.0) to the forget gate inside the
    op; it is folded into the bias here so the Keras LSTM computes the same.
    """
    w, b = np.asarray(w), np.array(b)
    units = w.shape[1] // 4
    inputs = w.shape[0] - units
    i, c, f, o = np.split(w, 4, axis=1)
    keras_w = np.concatenate([i, f, c, o], axis=1)
    bi, bc, bf, bo = np.split(b, 4)
    bias = np.concatenate([bi, bf + forget_bias, bc, bo])
    return [keras_w[:inputs], keras_w[inputs:], bias]


def to_block_lstm(kernel, recurrent_kernel, bias, forget_bias=1.0):
    """Keras LSTM weights -> (w [I+H,4H], b [4H]) for BlockLSTM with the
    given forget_bias (subtracted here, added back by the op)."""
    w = np.concatenate([kernel, recurrent_kernel], axis=0)
    i, f, c, o = np.split(w, 4, axis=1)
    bi, bf, bc, bo = np.split(np.asarray(bias), 4)
    return (np.concatenate([i, c, f, o], axis=1),
            np.concatenate([bi, bc, bf - forget_bias, bo]))
