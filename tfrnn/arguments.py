"""The checks of integer and number arguments, once for the whole package
(the zoo, tfrnn.data, the layers, the export): each bad value is an error
naming the argument and what it must be. Plain Python: no TensorFlow.

A bool is never taken for an integer or a number (True is an int in
Python, but `num_layers=True` is a mistake); numpy's integers and floats
are taken.
"""

import math
import numbers


def is_integer(value):
    """An integer (numpy's too), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value):
    """A real number (numpy's too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(name, value, low, high):
    """value as an int in [low, high], else TypeError (not an integer) or
    ValueError (out of range) naming `name` and the range."""
    if not is_integer(value):
        raise TypeError(f"{name} must be an integer in [{low}, {high}], got "
                        f"{value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return int(value)


def at_least(name, value, low):
    """value as an int >= low, else ValueError naming `name`."""
    if not is_integer(value) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got "
                         f"{value!r}")
    return int(value)


def number(name, value, low, inclusive=True):
    """A finite real value >= low (> low when not inclusive)."""
    if not is_number(value) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < low or (value == low and not inclusive):
        sign = ">=" if inclusive else ">"
        raise ValueError(f"{name} must be {sign} {low}, got {value}")
    return float(value)
