import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="module")
def small_char_lstm():
    """A built, untrained 1 x 8 CharLSTM over "abcdefgh " (13 ids)."""
    import tensorflow as tf
    from tfrnn.zoo import CharLSTM
    model = CharLSTM(list("abcdefgh "), units=8, num_layers=1,
                     embedding_dim=4)
    model(tf.zeros((1, 3), tf.int32))
    return model


@pytest.fixture(scope="module")
def small_seq2seq():
    """A built, untrained Seq2Seq over digits, space and '-' (16 source
    ids), decoding at most 6 tokens."""
    import tensorflow as tf
    from tfrnn.zoo import Seq2Seq
    model = Seq2Seq(list("0123456789 -"), list("0123456789-"), units=8,
                    embedding_dim=4, max_decode_length=6)
    model((tf.zeros((1, 3), tf.int32), tf.zeros((1, 3), tf.int32)))
    return model
