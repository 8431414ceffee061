"""Input pipelines on tf.data: vocabularies, LM windows, bucketing by length,
loss masks, tensorflow-datasets adapters and synthetic tasks (the masked
loss itself is tfrnn.training.MaskedSparseCategoricalCrossentropy)."""

from tfrnn.data import synthetic, tfds_adapters
from tfrnn.data.bucketing import (bucket_boundaries, bucket_by_length,
                                  padded_batches, padding_fraction,
                                  with_loss_mask)
from tfrnn.data.vocab import END, OOV, PAD, START, Vocabulary
from tfrnn.data.windows import (language_model_windows, stream_windows,
                                 window_count)

__all__ = [
    "END", "OOV", "PAD", "START", "Vocabulary", "bucket_boundaries",
    "bucket_by_length", "language_model_windows", "padded_batches",
    "padding_fraction", "stream_windows", "synthetic", "tfds_adapters",
    "window_count", "with_loss_mask"]
