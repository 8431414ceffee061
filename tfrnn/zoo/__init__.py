"""Ready-made recurrent models, trained with plain `model.fit` and saved as
`.keras`: CharLSTM (language model and generator), SequenceClassifier
(many-to-one), Seq2Seq (encoder-decoder with attention and beam search) and
ConditionedGenerator (one-to-many from a conditioning vector)."""

from tfrnn.zoo.char_lstm import CharLSTM
from tfrnn.zoo.classifier import SequenceClassifier
from tfrnn.zoo.generator import ConditionedGenerator
from tfrnn.zoo.seq2seq import Seq2Seq

__all__ = ["CharLSTM", "ConditionedGenerator", "Seq2Seq",
           "SequenceClassifier"]
