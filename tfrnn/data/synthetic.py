"""Synthetic sequence tasks that need no download, deterministic by seed.

Each returns numpy arrays or lists of strings (easy to inspect);
`dataset(task, ...)` wraps any of them as a tf.data.Dataset:
- adding_problem: the long-memory regression of Hochreiter & Schmidhuber.
- copy_task: repeat (or reverse) a random id sequence.
- integer_addition: "123+45" -> "168", character seq2seq.
- date_normalization: many written forms of a date -> ISO "YYYY-MM-DD".
- spelled_numbers: a digit vector -> the number in English words.
- majority_vote: which of two ids occurs more often, variable lengths.
"""

import datetime


import numpy as np
import tensorflow as tf

from tfrnn.arguments import at_least
from tfrnn.data.vocab import RESERVED


def _counts(**named):
    """Raises ValueError unless each named value is an integer >= its
    bound: name=value (bound 0) or name=(value, bound)."""
    for name, value in named.items():
        value, low = value if isinstance(value, tuple) else (value, 0)
        at_least(name, value, low)


def adding_problem(num_examples, length, seed=0):
    """x [N, length, 2]: a value in [0, 1) and a marker that is 1 at exactly
    two steps; y [N]: the sum of the two marked values."""
    _counts(num_examples=num_examples)
    if length < 2:
        raise ValueError("the adding problem needs length >= 2")
    rng = np.random.default_rng(seed)
    values = rng.random((num_examples, length)).astype(np.float32)
    markers = np.zeros_like(values)
    for row in range(num_examples):
        markers[row, rng.choice(length, size=2, replace=False)] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values * markers).sum(axis=1).astype(np.float32)
    return x, y


def copy_task(num_examples, length, vocab_size=10, reverse=False, seed=0,
              variable_length=False):
    """Random ids in [len(RESERVED), len(RESERVED)+vocab_size) and their copy
    (or reversal). With variable_length, rows have lengths 1..length and are
    right-padded with 0. Returns (source, target, lengths)."""
    _counts(num_examples=num_examples, length=(length, 1),
            vocab_size=(vocab_size, 1))
    rng = np.random.default_rng(seed)
    first = len(RESERVED)
    source = rng.integers(first, first + vocab_size,
                          size=(num_examples, length)).astype(np.int32)
    lengths = (rng.integers(1, length + 1, size=num_examples)
               if variable_length else np.full(num_examples, length))
    target = source.copy()
    for row, n in enumerate(lengths):
        source[row, n:] = 0
        target[row, n:] = 0
        if reverse:
            target[row, :n] = source[row, :n][::-1]
    return source, target, lengths.astype(np.int32)


def integer_addition(num_examples, max_digits=3, seed=0):
    """Questions "a+b" and answers str(a+b) for random a, b with 1 to
    max_digits digits each."""
    _counts(num_examples=num_examples, max_digits=(max_digits, 1))
    rng = np.random.default_rng(seed)

    def number():
        digits = int(rng.integers(1, max_digits + 1))
        return int(rng.integers(0, 10 ** digits))

    pairs = [(number(), number()) for _ in range(num_examples)]
    return [f"{a}+{b}" for a, b in pairs], [str(a + b) for a, b in pairs]


# Written forms of a date, all unambiguous (no numeric day/month swaps).
DATE_FORMATS = (
    "{B} {d}, {Y}", "{b} {d}, {Y}", "{d} {B} {Y}", "{d} {b} {Y}",
    "{A}, {B} {d}, {Y}", "{a} {d} {b} {Y}", "{B} {dd} {Y}", "{dd}.{mm}.{Y}",
    "{Y}/{mm}/{dd}", "{d} {B}, {Y}", "{Y} {B} {d}", "{b}. {d} {Y}",
)


def _written(date, form, rng):
    text = form.format(
        A=date.strftime("%A"), a=date.strftime("%a"), B=date.strftime("%B"),
        b=date.strftime("%b"), d=str(date.day), dd=f"{date.day:02d}",
        mm=f"{date.month:02d}", Y=str(date.year))
    style = rng.integers(3)  # as written, lower case or upper case
    return text if style == 0 else text.lower() if style == 1 else text.upper()


def date_normalization(num_examples, seed=0, start_year=1950, end_year=2049):
    """(written date, ISO date) pairs over days in [start_year, end_year]."""
    _counts(num_examples=num_examples, start_year=(start_year, 1),
            end_year=(end_year, start_year))
    rng = np.random.default_rng(seed)
    first = datetime.date(start_year, 1, 1).toordinal()
    last = datetime.date(end_year, 12, 31).toordinal()
    written, iso = [], []
    for _ in range(num_examples):
        date = datetime.date.fromordinal(int(rng.integers(first, last + 1)))
        form = DATE_FORMATS[int(rng.integers(len(DATE_FORMATS)))]
        written.append(_written(date, form, rng))
        iso.append(date.isoformat())
    return written, iso


def majority_vote(num_examples, min_length=10, max_length=100,
                  vocab_size=10, seed=0):
    """Variable-length id sequences (ids 4.., lengths uniform in
    [min_length, max_length]) labelled 1 when id 4 occurs more often than
    id 5, else 0 (never a tie). Returns (list of int32 arrays, labels)."""
    _counts(num_examples=num_examples, min_length=(min_length, 1),
            max_length=(max_length, min_length), vocab_size=(vocab_size, 2))
    rng = np.random.default_rng(seed)
    first = len(RESERVED)
    sequences, labels = [], []
    while len(sequences) < num_examples:
        length = int(rng.integers(min_length, max_length + 1))
        ids = rng.integers(first, first + vocab_size, size=length)
        a, b = int(np.sum(ids == first)), int(np.sum(ids == first + 1))
        if a != b:
            sequences.append(ids.astype(np.int32))
            labels.append(int(a > b))
    return sequences, np.array(labels, np.int32)


_ONES = ("zero one two three four five six seven eight nine ten eleven "
         "twelve thirteen fourteen fifteen sixteen seventeen eighteen "
         "nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n):
    """English words of 0 <= n <= 9999, e.g. 4207 -> "four thousand two
    hundred seven"."""
    if not 0 <= n <= 9999:
        raise ValueError(f"n must be in [0, 9999], got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    head, rest, unit = ((n // 1000, n % 1000, "thousand") if n >= 1000
                        else (n // 100, n % 100, "hundred"))
    words = f"{_ONES[head]} {unit}"
    return words if rest == 0 else f"{words} {number_words(rest)}"


def spelled_numbers(num_examples, seed=0, max_value=9999):
    """A conditioning vector and the text it should generate: features
    [N, 40] (one-hot of each of the 4 decimal digits) and the number in
    words. Returns (features, words, numbers)."""
    _counts(num_examples=num_examples, max_value=(max_value, 0))
    if max_value > 9999:
        raise ValueError(f"max_value must be <= 9999, got {max_value}")
    rng = np.random.default_rng(seed)
    numbers = rng.integers(0, max_value + 1, size=num_examples)
    digits = (numbers[:, None] // 10 ** np.arange(3, -1, -1)) % 10
    features = np.zeros((num_examples, 40), np.float32)
    features[np.arange(num_examples)[:, None], np.arange(4) * 10 + digits] = 1
    return features, [number_words(int(n)) for n in numbers], numbers


TASKS = {"adding_problem": adding_problem, "copy_task": copy_task,
         "integer_addition": integer_addition,
         "date_normalization": date_normalization,
         "spelled_numbers": spelled_numbers}


def dataset(task, num_examples, **kwargs):
    """A synthetic task as a tf.data.Dataset of (input, target) examples
    (copy_task also yields the length), e.g. dataset("integer_addition",
    1000, seed=1)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; one of {sorted(TASKS)}")
    return tf.data.Dataset.from_tensor_slices(
        tuple(TASKS[task](num_examples, **kwargs)))
