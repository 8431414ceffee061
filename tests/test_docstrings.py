"""The examples in the public layers' and zoo models' docstrings run and
print what they say (doctest)."""

import doctest
import importlib

import pytest

MODULES = ["tfrnn.layers.lstm", "tfrnn.layers.gru", "tfrnn.layers.simple_rnn",
           "tfrnn.layers.stacked", "tfrnn.ops.rnn", "tfrnn.zoo.char_lstm",
           "tfrnn.zoo.classifier", "tfrnn.zoo.seq2seq",
           "tfrnn.zoo.generator"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
