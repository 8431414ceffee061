"""Character and token vocabularies as in-graph lookups.

Encoding and decoding are TensorFlow ops (a StaticHashTable and a gather), so
they run inside tf.data pipelines and inside exported models that take raw
strings. Ids 0-3 are reserved: padding, out-of-vocabulary, start, end.
"""

import collections

import tensorflow as tf

from tfrnn.arguments import at_least, is_integer

PAD, OOV, START, END = 0, 1, 2, 3
RESERVED = ("<pad>", "<unk>", "<s>", "</s>")


class Vocabulary(tf.Module):
    """Maps characters (level="char") or whitespace tokens (level="token")
    to int32 ids and back.

    Build one with `Vocabulary.from_texts(texts)` or from a saved token list
    (`Vocabulary(tokens, level)`, tokens without the reserved four).
    """

    def __init__(self, tokens, level="char", lowercase=False, name=None):
        super().__init__(name=name)
        if level not in ("char", "token"):
            raise ValueError(f"level must be 'char' or 'token', got {level!r}")
        if isinstance(tokens, (str, bytes)):
            raise TypeError("tokens must be a list of tokens, not one "
                            "string")
        tokens = list(tokens)
        clashes = sorted(set(tokens) & set(RESERVED))
        repeated = sorted(t for t, n in collections.Counter(tokens).items()
                          if n > 1)
        if clashes or repeated:
            raise ValueError("tokens must be unique and must not include the "
                             f"reserved {RESERVED}; got repeated {repeated}, "
                             f"reserved {clashes}")
        if level == "char" and any(len(t) != 1 for t in tokens):
            raise ValueError("a character vocabulary holds single characters")
        self.level = level
        self.lowercase = lowercase
        self.tokens = list(RESERVED) + tokens
        keys = tf.constant(tokens or [""], tf.string)
        values = tf.range(len(RESERVED), len(RESERVED) + max(len(tokens), 1),
                          dtype=tf.int32)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(keys, values), OOV)
        self._id_to_token = tf.constant(self.tokens, tf.string)

    @classmethod
    def from_texts(cls, texts, level="char", lowercase=False, max_size=None,
                   min_count=1):
        """Vocabulary of the most frequent units of `texts` (a list of
        strings; ties broken by first appearance, so the same texts give the
        same ids). max_size counts the four reserved ids too. Texts with no
        unit that is kept are an error: no model can learn from them."""
        if isinstance(texts, (str, bytes)):
            raise TypeError("texts must be a list of strings, not one string "
                            "(it would be read as a list of characters)")
        if max_size is not None and (not is_integer(max_size) or
                                     max_size <= len(RESERVED)):
            raise ValueError(f"max_size must be an integer > "
                             f"{len(RESERVED)} (the reserved ids count), or "
                             f"None; got {max_size!r}")
        at_least("min_count", min_count, 1)
        counts = collections.Counter()
        for text in texts:
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            if lowercase:
                text = text.lower()
            counts.update(text if level == "char" else text.split())
        units = [u for u, c in counts.most_common() if c >= min_count
                 and u not in RESERVED]
        if max_size is not None:
            units = units[:max_size - len(RESERVED)]
        if not units:
            raise ValueError(f"texts hold no {level} seen at least min_count "
                             f"= {min_count} times: an empty vocabulary")
        return cls(units, level=level, lowercase=lowercase)

    @property
    def size(self):
        """Number of ids, reserved ones included."""
        return len(self.tokens)

    def get_config(self):
        """What `Vocabulary(**config)` needs to rebuild this vocabulary."""
        return {"tokens": self.tokens[len(RESERVED):], "level": self.level,
                "lowercase": self.lowercase}

    def split(self, text):
        """Strings -> ragged units (characters or whitespace tokens)."""
        try:
            text = tf.convert_to_tensor(text, tf.string)
        except (TypeError, ValueError):
            raise TypeError(f"text must be strings, got "
                            f"{type(text).__name__}: {text!r:.80}") from None
        if self.lowercase:
            text = tf.strings.lower(text, encoding="utf-8")
        if self.level == "char":
            return tf.strings.unicode_split(text, "UTF-8")
        return tf.strings.split(text)

    def encode(self, text, add_start=False, add_end=False):
        """Strings (any shape) -> int32 ids, ragged in the last dimension."""
        units = self.split(text)
        ids = tf.ragged.map_flat_values(self._table.lookup, units)
        if add_start or add_end:
            ids = _add_markers(ids, add_start, add_end)
        return ids

    def decode(self, ids):
        """Ids [..., T] (dense or ragged) -> strings [...].

        Stops at the first END, drops PAD and START; OOV, and any id
        outside [0, size), shows as <unk> (in-graph, so no error is raised
        where a served model decodes its own outputs).
        """
        ids = tf.cast(ids, tf.int32)
        if isinstance(ids, tf.RaggedTensor):
            ids = ids.to_tensor(default_value=PAD)
        ended = tf.cumsum(tf.cast(tf.equal(ids, END), tf.int32), axis=-1) > 0
        keep = tf.logical_not(ended) & (ids != PAD) & (ids != START)
        valid = tf.logical_and(ids >= 0, ids < self.size)
        units = tf.gather(self._id_to_token, tf.where(valid, ids, OOV))
        units = tf.ragged.boolean_mask(units, keep)
        separator = "" if self.level == "char" else " "
        return tf.strings.reduce_join(units, axis=-1, separator=separator)


def _add_markers(ids, add_start, add_end):
    """Prepends START and/or appends END to every sequence of ids (a dense
    1-D tensor, or ragged in the last dimension), empty ones included."""
    if isinstance(ids, tf.RaggedTensor):
        rows = ids.bounding_shape(out_type=tf.int32)[:-1]
    else:
        rows = tf.shape(ids)[:-1]
    marker_shape = tf.concat([rows, [1]], axis=0)

    def marker(value):
        m = tf.fill(marker_shape, tf.constant(value, ids.dtype))
        if isinstance(ids, tf.RaggedTensor):
            m = tf.RaggedTensor.from_tensor(m, ragged_rank=ids.ragged_rank)
        return m

    pieces = ([marker(START)] if add_start else []) + [ids] + (
        [marker(END)] if add_end else [])
    return tf.concat(pieces, axis=-1)
