"""Writes torch_stacked_reference.npz: 2-layer bidirectional torch.nn.RNN
(tanh, relu), LSTM (with proj_size) and GRU stacks run on packed sequences
from given initial states, so the StackedRNN tests need no torch.

Per case: the state dict, x [B,T,I] (batch-first; time-major cases feed
torch its transpose), the lengths, h0 (and c0) [L*D,B,.], and what torch
returned: output (pad_packed_sequence: zeros past each length), h_n (c_n).

    python tests/data/make_torch_stacks.py   (needs torch)
"""

import os

import numpy as np
import torch

B, T, I, H = 4, 6, 3, 5
LENGTHS = [6, 3, 1, 4]  # packed sequences need lengths >= 1
# name -> (torch module class, extra constructor arguments)
CASES = {
    "rnn_tanh": (torch.nn.RNN, dict(nonlinearity="tanh")),
    "rnn_relu": (torch.nn.RNN, dict(nonlinearity="relu", bias=False)),
    "lstm_proj": (torch.nn.LSTM, dict(proj_size=2)),
    "gru": (torch.nn.GRU, dict()),
    "gru_time_major": (torch.nn.GRU, dict(batch_first=False)),
}


def run(name, module_class, kwargs):
    batch_first = kwargs.pop("batch_first", True)
    module = module_class(I, H, num_layers=2, bidirectional=True,
                          batch_first=batch_first, **kwargs)
    out = {f"{name}/{k}": v.numpy() for k, v in module.state_dict().items()}
    x = torch.randn(B, T, I)
    width = kwargs.get("proj_size") or H
    h0 = torch.randn(4, B, width)
    states = (h0, torch.randn(4, B, H)) if module_class is torch.nn.LSTM \
        else h0
    fed = x if batch_first else x.transpose(0, 1)
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        fed, torch.tensor(LENGTHS), batch_first=batch_first,
        enforce_sorted=False)
    y, final = module(packed, states)
    y, _ = torch.nn.utils.rnn.pad_packed_sequence(
        y, batch_first=batch_first, total_length=T)
    if not batch_first:
        y = y.transpose(0, 1)
    out[f"{name}/x"] = x.numpy()
    out[f"{name}/output"] = y.numpy()
    for key, value in zip(("h", "c"), as_tuple(states)):
        out[f"{name}/{key}0"] = value.numpy()
    for key, value in zip(("h_n", "c_n"), as_tuple(final)):
        out[f"{name}/{key}"] = value.numpy()
    return out


def as_tuple(states):
    return states if isinstance(states, tuple) else (states,)


torch.manual_seed(0)
arrays = {"lengths": np.array(LENGTHS, np.int32)}
with torch.no_grad():
    for case, (module_class, kwargs) in CASES.items():
        arrays.update(run(case, module_class, dict(kwargs)))
np.savez(os.path.join(os.path.dirname(__file__),
                      "torch_stacked_reference.npz"), **arrays)
print(f"wrote {len(arrays)} arrays with torch {torch.__version__}")
