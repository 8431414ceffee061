"""The bench tools: `tfrnn bench`'s speed benchmark of the layers against
Keras, torch and the machine's GEMM (speed.py) and its --variant mode, the
LSTM's options and masks (variants.py)."""
