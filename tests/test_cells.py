"""The cell registry (tfrnn/cells.py) against what it describes."""

import re
import subprocess
import sys

import pytest

from paths import ROOT
from tfrnn import interop
from tfrnn.cells import CELLS, TORCH_MODES
from tfrnn.ops.loader import library


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("name", sorted(CELLS))
def test_each_cell_names_its_three_ops(name):
    cell = CELLS[name]
    assert cell.name == name
    for suffix in ("", "Grad", "Step"):
        assert hasattr(library.ops, snake(cell.op + suffix))


@pytest.mark.parametrize("name", sorted(CELLS))
def test_gates_states_and_bias_match_the_layers(name):
    from tfrnn.layers.stacked import CELLS as LAYERS
    cell = CELLS[name]
    layer = LAYERS[name](5)
    layer.build((2, 3, 4))
    kernel, recurrent, bias = [w.shape for w in layer.weights]
    assert tuple(kernel) == (4, cell.gates * 5)
    assert tuple(recurrent) == (5, cell.gates * 5)
    assert tuple(bias) == cell.bias_shape(5)
    sizes = layer.cell.state_size
    assert len(sizes if isinstance(sizes, (list, tuple)) else [sizes]) == \
        cell.states


def test_torch_modes_are_interop_modes():
    assert tuple(TORCH_MODES) == interop.MODES


def test_the_framework_free_modules_load_without_tensorflow():
    """tfrnn.cells and the GPU core's binding load with TensorFlow
    unimportable (the GPU check's machines have none); the rest of tfrnn
    then says what to install."""
    code = (
        "import sys\n"
        "sys.modules['tensorflow'] = None\n"
        "import tfrnn\n"
        "from tfrnn import cells, gpu_core\n"
        "print(sorted(cells.CELLS), sorted(gpu_core.CELLS))\n"
        "try:\n"
        "    tfrnn.layers\n"
        "except ImportError as err:\n"
        "    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout.splitlines()
    assert out[0] == ("['gru', 'lstm', 'rnn'] "
                      "['gru', 'lstm', 'rnn_relu', 'rnn_tanh']")
    assert out[1].startswith("tfrnn needs TensorFlow 2.21")


def test_the_gpu_core_binding_reads_the_registry():
    from tfrnn import gpu_core
    assert gpu_core.CELLS == {"lstm": (4, 4, 1, True),
                              "gru": (3, 4, 2, False),
                              "rnn_tanh": (1, 0, 1, False),
                              "rnn_relu": (1, 0, 1, False)}
