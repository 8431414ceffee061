"""Ready-made recurrent models, trained with plain `model.fit` and saved as
`.keras`: CharLSTM / CharRNN (character language model and generator, of
any cell and layer sizes, on streams or one text per line),
SequenceClassifier
(many-to-one), Seq2Seq (encoder-decoder with attention and beam search) and
ConditionedGenerator (one-to-many from a conditioning vector)."""

from tfrnn.zoo.char_lstm import CharLSTM, CharRNN
from tfrnn.zoo.classifier import SequenceClassifier
from tfrnn.zoo.generator import ConditionedGenerator
from tfrnn.zoo.seq2seq import Seq2Seq

__all__ = ["CharLSTM", "CharRNN", "ConditionedGenerator", "Seq2Seq",
           "SequenceClassifier"]
