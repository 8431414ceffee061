"""PyTorch-style multi-layer recurrent layer: num_layers, bidirectional and
dropout between layers, over tfrnn's fused LSTM/GRU/SimpleRNN layers.

`StackedRNN(units, cell="lstm", num_layers=2, bidirectional=True,
dropout=0.2)` is what `torch.nn.LSTM(..., num_layers=2, bidirectional=True,
dropout=0.2, batch_first=True)` computes; `load_torch_state_dict` takes that
module's weights. torch's other arguments have their counterparts:
nonlinearity (cell="rnn"), bias, proj_size (LSTM), batch_first
(time_major=True is batch_first=False), initial states shaped
[num_layers * num_directions, B, H], packed sequences (sequence_length),
and its (output, h_n[, c_n]) results (state_layout="torch"). Masks reach
every layer; each backward direction runs within each sequence's length.
"""

import numbers

import keras
import tensorflow as tf

from tfrnn import interop
from tfrnn.arguments import at_least
from tfrnn.layers.call_inputs import as_compute_dtype, checked_lengths
from tfrnn.layers.gru import GRU
from tfrnn.layers.lstm import LSTM
from tfrnn.layers.simple_rnn import SimpleRNN
from tfrnn.ops.inputs import NONLINEARITIES, check_nonlinearity

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}
STATE_LAYOUTS = ("per_layer", "torch")


# What StackedRNN sets on every layer itself: layer_kwargs may not.
OWNED_ARGUMENTS = ("units", "return_sequences", "return_state",
                   "time_major", "go_backwards", "stateful", "name")
# layer_kwargs that are StackedRNN's own named arguments (-> that argument
# and its default): taken when the named one is at its default, an error
# when both are given and differ.
NAMED_ARGUMENTS = {"nonlinearity": ("nonlinearity", "tanh"),
                   "use_bias": ("bias", True),
                   "proj_size": ("proj_size", 0)}


def _merge_layer_kwargs(cell, layer_kwargs, named):
    """(layer_kwargs without the named arguments' keys, named updated);
    for cell="rnn" a fused activation ("tanh"/"relu") counts as the
    nonlinearity."""
    kwargs = dict(layer_kwargs or {})
    owned = sorted(set(kwargs) & set(OWNED_ARGUMENTS))
    if owned:
        raise ValueError(f"layer_kwargs cannot set {owned}: StackedRNN sets "
                         f"them on every layer (use its own arguments)")
    if cell == "rnn" and kwargs.get("activation") in NONLINEARITIES:
        if "nonlinearity" in kwargs and \
                kwargs["nonlinearity"] != kwargs["activation"]:
            raise ValueError("layer_kwargs' activation and nonlinearity "
                             "disagree; pass one")
        kwargs["nonlinearity"] = kwargs.pop("activation")
    named = dict(named)
    for key, (argument, default) in NAMED_ARGUMENTS.items():
        if key not in kwargs or (key == "nonlinearity" and cell != "rnn"):
            continue
        value = kwargs.pop(key)
        if named[argument] == default:
            named[argument] = value
        elif value != named[argument]:
            raise ValueError(f"{argument}={named[argument]!r} and "
                             f"layer_kwargs {key}={value!r} disagree; "
                             f"pass one")
    return kwargs, named


def _check_arguments(cell, num_layers, dropout, nonlinearity, proj_size,
                     state_layout):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got "
                         f"{cell!r}")
    at_least("num_layers", num_layers, 1)
    if not isinstance(dropout, numbers.Real):
        raise ValueError(f"dropout must be a number in [0, 1), got "
                         f"{dropout!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    check_nonlinearity(nonlinearity, ValueError)
    if proj_size and cell != "lstm":
        raise ValueError("proj_size is for LSTM stacks only (as torch's)")
    if state_layout not in STATE_LAYOUTS:
        raise ValueError(f"state_layout must be one of {STATE_LAYOUTS}, got "
                         f"{state_layout!r}")


@keras.saving.register_keras_serializable(package="tfrnn")
class StackedRNN(keras.layers.Layer):
    """num_layers recurrent layers, optionally bidirectional.

    Args:
        units: hidden size of every layer (and direction).
        cell: "lstm", "gru" or "rnn" (the Elman RNN, torch.nn.RNN).
        num_layers: how many layers are stacked.
        bidirectional: run each layer both ways and concatenate (or
            merge_mode) the two outputs, as keras.layers.Bidirectional.
        dropout: dropout on each layer's output except the last (PyTorch's
            meaning; it is not Keras's input dropout).
        return_sequences: return the last layer's outputs at every step, or
            only the final one.
        return_state: also return the final states of every layer and
            direction, in PyTorch's order (layer 0 forward, layer 0 backward,
            layer 1 forward, ...): per state_layout.
        seed: for the dropout between layers.
        layer_kwargs: passed to every LSTM/GRU/SimpleRNN layer
            (initializers, forget_bias, recurrent_dropout, ...).
        nonlinearity: "tanh" or "relu", for cell="rnn".
        bias: False builds the layers without biases (torch's bias=False).
        proj_size: LSTM only: the projection of h (torch's proj_size);
            h then has proj_size units, c has `units`.
        time_major: inputs and sequence outputs are [T, B, ...] (torch's
            batch_first=False).
        state_layout: "per_layer": the states as a list per layer and
            direction ([h, c] or [h]); "torch": torch's h_n (and for the
            LSTM c_n) [num_layers * num_directions, B, H], the LSTM's as a
            pair (h_n, c_n), as torch returns them.

    Call arguments: inputs; initial_state in torch's layout (the LSTM's a
    pair (h0, c0)); mask [B, T]; sequence_length [B] (torch's packed
    sequences: the mask of those lengths, and outputs past a length are 0);
    training.

    >>> import numpy as np
    >>> stack = StackedRNN(4, cell="rnn", nonlinearity="relu", num_layers=2,
    ...                    bidirectional=True, return_state=True,
    ...                    state_layout="torch")
    >>> output, h_n = stack(np.zeros((3, 5, 2), "float32"),
    ...                     sequence_length=np.array([5, 2, 1]))
    >>> output.shape, h_n.shape
    (TensorShape([3, 5, 8]), TensorShape([4, 3, 4]))
    """

    def __init__(self, units, cell="lstm", num_layers=1, bidirectional=False,
                 dropout=0.0, merge_mode="concat", return_sequences=True,
                 return_state=False, seed=None, layer_kwargs=None,
                 nonlinearity="tanh", bias=True, proj_size=0,
                 time_major=False, state_layout="per_layer", **kwargs):
        layer_kwargs, named = _merge_layer_kwargs(
            cell, layer_kwargs, {"nonlinearity": nonlinearity, "bias": bias,
                                 "proj_size": proj_size})
        nonlinearity, bias, proj_size = (named["nonlinearity"], named["bias"],
                                         named["proj_size"])
        _check_arguments(cell, num_layers, dropout, nonlinearity, proj_size,
                         state_layout)
        super().__init__(**kwargs)
        self.units, self.cell, self.num_layers = units, cell, int(num_layers)
        self.bidirectional, self.dropout = bidirectional, dropout
        self.merge_mode, self.seed = merge_mode, seed
        self.return_sequences, self.return_state = return_sequences, \
            return_state
        self.layer_kwargs = dict(layer_kwargs or {})
        self.nonlinearity, self.bias = nonlinearity, bool(bias)
        self.proj_size, self.time_major = int(proj_size or 0), time_major
        self.state_layout = state_layout
        self.supports_masking = True
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.recurrent_layers = [self._make_layer(k)
                                 for k in range(num_layers)]
        self.dropout_layers = [
            keras.layers.Dropout(dropout, seed=None if seed is None
                                 else seed + k, name=f"dropout_{k}")
            for k in range(num_layers - 1)]

    def _make_layer(self, k):
        kwargs = dict(self.layer_kwargs)
        if self.cell == "rnn":
            kwargs["nonlinearity"] = self.nonlinearity
        if not self.bias:
            kwargs["use_bias"] = False
        if self.proj_size:
            kwargs["proj_size"] = self.proj_size
        last = k == self.num_layers - 1
        layer = CELLS[self.cell](
            self.units, return_sequences=self.return_sequences or not last,
            return_state=True, name=f"{self.cell}_{k}", **kwargs)
        if self.bidirectional:
            layer = keras.layers.Bidirectional(
                layer, merge_mode=self.merge_mode, name=f"bidirectional_{k}")
        return layer

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def torch_mode(self):
        """The tfrnn.interop mode of this stack's torch module."""
        return f"rnn_{self.nonlinearity}" if self.cell == "rnn" else self.cell

    def build(self, input_shape):
        shape = tuple(input_shape)
        if self.time_major:
            shape = (shape[1], shape[0]) + shape[2:]
        for layer in self.recurrent_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)[0]

    def _initial_states(self, initial_state):
        """Per layer, the states its layer takes (forward's, then
        backward's), from torch's [num_layers * num_directions, B, H]."""
        if initial_state is None:
            return [None] * self.num_layers
        stacked = list(initial_state) if isinstance(
            initial_state, (list, tuple)) else [initial_state]
        expected = 2 if self.cell == "lstm" else 1
        if len(stacked) != expected:
            raise ValueError(
                f"initial_state of a {self.cell} stack is "
                f"{'(h0, c0)' if expected == 2 else 'h0'}, each [num_layers "
                f"* num_directions, B, H]; got {len(stacked)} tensors")
        stacked = [tf.convert_to_tensor(s, self.compute_dtype)
                   for s in stacked]
        d = self.num_directions
        for s, name in zip(stacked, ("h0", "c0")):
            if s.shape.rank != 3 or s.shape[0] not in (
                    None, self.num_layers * d):
                raise ValueError(
                    f"initial_state's {name} must be [num_layers * "
                    f"num_directions = {self.num_layers * d}, B, H], got "
                    f"shape {s.shape.as_list()}")
        return [[s[k * d + i] for i in range(d) for s in stacked]
                for k in range(self.num_layers)]

    def call(self, inputs, initial_state=None, mask=None, training=None,
             sequence_length=None):
        h = as_compute_dtype(inputs, self.compute_dtype)
        if self.time_major:
            h = tf.transpose(h, [1, 0, 2])
            mask = None if mask is None else tf.transpose(mask)
        if sequence_length is not None:
            if mask is not None:
                raise ValueError("pass a mask or sequence_length, not both")
            mask = tf.sequence_mask(checked_lengths(sequence_length, h),
                                    tf.shape(h)[1])
        states = []
        for k, (layer, first) in enumerate(zip(
                self.recurrent_layers, self._initial_states(initial_state))):
            h, *final = layer(h, initial_state=first, mask=mask,
                              training=training)
            size = len(final) // self.num_directions
            states += [list(final[i * size:(i + 1) * size])
                       for i in range(self.num_directions)]
            if k < self.num_layers - 1 and self.dropout > 0:
                h = self.dropout_layers[k](h, training=training)
        if self.return_sequences and sequence_length is not None:
            h = tf.where(mask[:, :, None], h, tf.zeros_like(h))  # torch's
        if self.time_major and self.return_sequences:
            h = tf.transpose(h, [1, 0, 2])
        if not self.return_state:
            return h
        if self.state_layout == "per_layer":
            return h, states
        stacked = [tf.stack([s[i] for s in states]) for i in
                   range(len(states[0]))]
        return (h, tuple(stacked)) if self.cell == "lstm" else (h, stacked[0])

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        return (output_mask, None) if self.return_state else output_mask

    def directions(self):
        """(layer index, "forward"/"backward", the recurrent layer) in
        PyTorch's order."""
        for k, layer in enumerate(self.recurrent_layers):
            if self.bidirectional:
                yield k, "forward", layer.forward_layer
                yield k, "backward", layer.backward_layer
            else:
                yield k, "forward", layer

    def load_torch_state_dict(self, state_dict):
        """Sets the weights from a torch.nn.LSTM/GRU/RNN state dict (numpy
        arrays, batch_first or not: weights do not depend on it); an
        unbuilt stack is built for the state dict's input size."""
        weights = interop.from_torch(state_dict, self.torch_mode)
        expected = {(k, d) for k, d, _ in self.directions()}
        if set(weights) != expected:
            raise ValueError(f"the state dict holds layers {sorted(weights)}"
                             f", this layer has {sorted(expected)}")
        if not self.built:  # the input size is weight_ih_l0's
            self.build((None, None, weights[(0, "forward")][0].shape[0]))
        for k, direction, layer in self.directions():
            want = [tuple(w.shape) for w in layer.weights]
            got = [w.shape for w in weights[(k, direction)]]
            if layer.built and got != want:
                raise ValueError(
                    f"the state dict's layer {k} {direction} holds weights "
                    f"of shapes {got} (Keras layout), this stack's "
                    f"{want}: another input size, units, bias or proj_size")
            layer.set_weights(weights[(k, direction)])

    def torch_state_dict(self):
        """The weights as a torch.nn.LSTM/GRU/RNN state dict (numpy
        arrays)."""
        return interop.to_torch(
            {(k, d): layer.get_weights() for k, d, layer in self.directions()},
            self.torch_mode)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "cell": self.cell, "num_layers": self.num_layers,
                "bidirectional": self.bidirectional, "dropout": self.dropout,
                "merge_mode": self.merge_mode,
                "return_sequences": self.return_sequences,
                "return_state": self.return_state, "seed": self.seed,
                "layer_kwargs": self.layer_kwargs,
                "nonlinearity": self.nonlinearity, "bias": self.bias,
                "proj_size": self.proj_size, "time_major": self.time_major,
                "state_layout": self.state_layout}
