"""The training workflow of the zoo models, shared by the `tfrnn` command
line and the recipes under zoo/: data, model and optimiser defaults
(recipes), callbacks that back runs up and keep the best model (callbacks),
and losses. It builds on the zoo and the export, never the reverse."""

from tfrnn.training.losses import MaskedSparseCategoricalCrossentropy

__all__ = ["MaskedSparseCategoricalCrossentropy"]
