"""The checks of the zoo models' public arguments, before any work: each
bad value is an error naming the argument and what it must be, and the
requests that would need unbounded memory are refused at a stated bound.

Bounds (in-process; the served signatures have their own, smaller ones in
tfrnn.zoo.signatures):
- MAX_LENGTH ids generated or decoded per row: 1,000,000 (4 MB a row);
- MAX_BEAM_WIDTH hypotheses per row: 1,000.
"""

from tfrnn.arguments import integer, number  # noqa: F401 (re-exported)

MAX_LENGTH = 1_000_000
MAX_BEAM_WIDTH = 1_000
INT32 = (-2 ** 31, 2 ** 31 - 1)


def length(name, value, low=0):
    """A generation or decoding length, at most MAX_LENGTH."""
    return integer(name, value, low, MAX_LENGTH)


def seed(value):
    """A sampling seed: an int32."""
    return integer("seed", value, *INT32)


def text(name, value):
    """One string."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def texts(name, values):
    """A list (or tuple) of strings; one str is refused rather than read as
    a list of characters."""
    if isinstance(values, (str, bytes)) or not isinstance(values,
                                                          (list, tuple)):
        raise TypeError(f"{name} must be a list of str, got "
                        f"{type(values).__name__}")
    for value in values:
        text(f"each of {name}", value)
    return list(values)
