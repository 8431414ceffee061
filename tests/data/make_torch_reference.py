"""Writes torch_rnn_reference.npz: PyTorch recurrent weights, inputs and the
outputs PyTorch computed, so the interop tests need no torch.

    python tests/data/make_torch_reference.py   (needs torch)
"""

import os

import numpy as np
import torch

torch.manual_seed(0)
out = {}
x = torch.randn(2, 5, 3)  # batch-first: B=2, T=5, I=3
out["x"] = x.numpy()
models = {
    "lstm": torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True,
                          batch_first=True),
    "gru": torch.nn.GRU(3, 4, num_layers=2, bidirectional=True,
                        batch_first=True),
    "rnn_tanh": torch.nn.RNN(3, 4, nonlinearity="tanh", batch_first=True),
    "rnn_relu": torch.nn.RNN(3, 4, nonlinearity="relu", batch_first=True),
    "lstm_proj": torch.nn.LSTM(3, 6, proj_size=4, batch_first=True),
}
with torch.no_grad():
    for mode, model in models.items():
        for name, value in model.state_dict().items():
            out[f"{mode}/{name}"] = value.numpy()
        y, final = model(x)
        out[f"{mode}/output"] = y.numpy()
        if mode == "lstm_proj":
            out[f"{mode}/h_n"], out[f"{mode}/c_n"] = (t[0].numpy()
                                                      for t in final)
np.savez(os.path.join(os.path.dirname(__file__), "torch_rnn_reference.npz"),
         **out)
print(f"wrote {len(out)} arrays with torch {torch.__version__}")
