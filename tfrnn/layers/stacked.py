"""PyTorch-style multi-layer recurrent layer: num_layers, bidirectional and
dropout between layers, over tfrnn's fused LSTM/GRU layers.

`StackedRNN(units, cell="lstm", num_layers=2, bidirectional=True,
dropout=0.2)` is what `torch.nn.LSTM(..., num_layers=2, bidirectional=True,
dropout=0.2, batch_first=True)` computes; `load_torch_state_dict` takes that
module's weights. Masks reach every layer; each backward direction runs
within each sequence's length.
"""

import keras

from tfrnn import interop
from tfrnn.layers.gru import GRU
from tfrnn.layers.lstm import LSTM

CELLS = {"lstm": LSTM, "gru": GRU}


@keras.saving.register_keras_serializable(package="tfrnn")
class StackedRNN(keras.layers.Layer):
    """num_layers recurrent layers, optionally bidirectional.

    Args:
        units: hidden size of every layer (and direction).
        cell: "lstm" or "gru".
        num_layers: how many layers are stacked.
        bidirectional: run each layer both ways and concatenate (or
            merge_mode) the two outputs, as keras.layers.Bidirectional.
        dropout: dropout on each layer's output except the last (PyTorch's
            meaning; it is not Keras's input dropout).
        return_sequences: return the last layer's outputs at every step, or
            only the final one.
        return_state: also return the final states of every layer and
            direction, in PyTorch's order (layer 0 forward, layer 0 backward,
            layer 1 forward, ...), each a list ([h, c] or [h]).
        seed: for the dropout between layers.
        **layer_kwargs: passed to every LSTM/GRU layer (activation,
            initializers, forget_bias, recurrent_dropout, ...).
    """

    def __init__(self, units, cell="lstm", num_layers=1, bidirectional=False,
                 dropout=0.0, merge_mode="concat", return_sequences=True,
                 return_state=False, seed=None, layer_kwargs=None, **kwargs):
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got "
                             f"{cell!r}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        super().__init__(**kwargs)
        self.units, self.cell, self.num_layers = units, cell, num_layers
        self.bidirectional, self.dropout = bidirectional, dropout
        self.merge_mode, self.seed = merge_mode, seed
        self.return_sequences, self.return_state = return_sequences, \
            return_state
        self.layer_kwargs = dict(layer_kwargs or {})
        self.supports_masking = True
        self.recurrent_layers = []
        for k in range(num_layers):
            last = k == num_layers - 1
            layer = CELLS[cell](
                units, return_sequences=return_sequences or not last,
                return_state=return_state, name=f"{cell}_{k}",
                **self.layer_kwargs)
            if bidirectional:
                layer = keras.layers.Bidirectional(
                    layer, merge_mode=merge_mode, name=f"bidirectional_{k}")
            self.recurrent_layers.append(layer)
        self.dropout_layers = [
            keras.layers.Dropout(dropout, seed=None if seed is None
                                 else seed + k, name=f"dropout_{k}")
            for k in range(num_layers - 1)]

    def build(self, input_shape):
        shape = input_shape
        for layer in self.recurrent_layers:
            layer.build(shape)
            output_shape = layer.compute_output_shape(shape)
            shape = output_shape[0] if self.return_state else output_shape

    def call(self, inputs, mask=None, training=None):
        h = inputs
        states = []
        for k, layer in enumerate(self.recurrent_layers):
            result = layer(h, mask=mask, training=training)
            if self.return_state:
                h, *final = result
                per_direction = 2 if self.bidirectional else 1
                size = len(final) // per_direction
                states += [list(final[i * size:(i + 1) * size])
                           for i in range(per_direction)]
            else:
                h = result
            if k < self.num_layers - 1 and self.dropout > 0:
                h = self.dropout_layers[k](h, training=training)
        return (h, states) if self.return_state else h

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
        """Sets the weights from a torch.nn.LSTM/GRU state dict (numpy
        arrays, batch_first or not: weights do not depend on it)."""
        weights = interop.from_torch(state_dict, self.cell)
        expected = {(k, d) for k, d, _ in self.directions()}
        if set(weights) != expected:
            raise ValueError(f"the state dict holds layers {sorted(weights)}"
                             f", this layer has {sorted(expected)}")
        for k, direction, layer in self.directions():
            layer.set_weights(weights[(k, direction)])

    def torch_state_dict(self):
        """The weights as a torch.nn.LSTM/GRU state dict (numpy arrays)."""
        return interop.to_torch(
            {(k, d): layer.get_weights() for k, d, layer in self.directions()},
            self.cell)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "cell": self.cell, "num_layers": self.num_layers,
                "bidirectional": self.bidirectional, "dropout": self.dropout,
                "merge_mode": self.merge_mode,
                "return_sequences": self.return_sequences,
                "return_state": self.return_state, "seed": self.seed,
                "layer_kwargs": self.layer_kwargs}
