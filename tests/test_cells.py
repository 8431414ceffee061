"""The cell registry (tfrnn/cells.py) against what it describes."""

import os
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


def test_the_registry_reads_without_tensorflow():
    """The registry is plain Python: loaded by path with TensorFlow
    unimportable."""
    code = (
        "import sys, importlib.util\n"
        "sys.modules['tensorflow'] = None\n"
        f"spec = importlib.util.spec_from_file_location('cells', "
        f"{os.path.join(ROOT, 'tfrnn', 'cells.py')!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(sorted(module.CELLS))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "['gru', 'lstm', 'rnn']"
