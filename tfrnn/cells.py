"""The three recurrent cells' facts, once: what every table of "lstm, gru,
rnn" in the package reads (the layers, the interop with PyTorch, the
benchmarks, the tests). Plain Python: no TensorFlow needed to read it.

The GPU core's ctypes binding
(tfrnn/gpu_core.py) reads them too: both load without TensorFlow, where
the GPU check runs.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Cell:
    """name: tfrnn's name (`cell=` arguments); gates: gate blocks in the
    kernels' columns (Keras's order); states: carried states (h, then c);
    bias_rows: 1 for bias [gates*H], 2 for the GRU's [2, gates*H] (input
    and recurrent bias); saved: values per unit a step saves for the
    backward (the op's `saved` output, without the LSTM's options);
    op: the fused sequence op (+ "Grad", + "Step"); torch_modes:
    torch.nn's names of it (its RNN has two nonlinearities), which the GPU
    core's C ABI names its cells by too."""

    name: str
    gates: int
    states: int
    bias_rows: int
    saved: int
    op: str
    torch_modes: tuple

    @property
    def has_cell_state(self):
        """True for the LSTM, whose c is carried beside h."""
        return self.states == 2

    def bias_shape(self, units):
        """The bias's shape for `units` units, as Keras stores it."""
        width = self.gates * units
        return (width,) if self.bias_rows == 1 else (self.bias_rows, width)


CELLS = {
    "lstm": Cell("lstm", gates=4, states=2, bias_rows=1, saved=4,
                 op="TfrnnLstm",
                 torch_modes=("lstm",)),
    "gru": Cell("gru", gates=3, states=1, bias_rows=2, saved=4,
                op="TfrnnGru",
                torch_modes=("gru",)),
    "rnn": Cell("rnn", gates=1, states=1, bias_rows=1, saved=0,
                op="TfrnnRnn",
                torch_modes=("rnn_tanh", "rnn_relu")),
}
# torch mode ("lstm", "gru", "rnn_tanh", "rnn_relu"), the C ABI's names
# too -> its Cell
TORCH_MODES = {mode: cell for cell in CELLS.values()
               for mode in cell.torch_modes}
