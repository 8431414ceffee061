"""Losses of the training workflows."""

import keras
import tensorflow as tf

from tfrnn.data.vocab import PAD


@keras.saving.register_keras_serializable(package="tfrnn")
class MaskedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Mean cross-entropy over the real (non-PAD) targets of a batch.

    Padding never counts: not in the sum and not in the count, so a batch's
    loss does not depend on how much padding it carries.
    """

    def __init__(self, from_logits=True, pad_id=PAD,
                 name="masked_sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits = from_logits
        self.pad_id = pad_id

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.int32)
        per_token = keras.losses.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=self.from_logits)
        weights = tf.cast(tf.not_equal(y_true, self.pad_id), per_token.dtype)
        if sample_weight is not None:
            weights *= tf.cast(sample_weight, per_token.dtype)
        return tf.math.divide_no_nan(tf.reduce_sum(per_token * weights),
                                     tf.reduce_sum(weights))

    def call(self, y_true, y_pred):  # pragma: no cover - __call__ overrides
        return self(y_true, y_pred)

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits,
                "pad_id": self.pad_id}
