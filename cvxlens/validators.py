"""Option validators for ``cvxlens.Option(validate=...)``.

Each returns the normalized value or raises ValueError/TypeError saying what is allowed; the
framework prefixes the message with the option and method names (``Method.validate_options``).
Numeric strings are accepted (the CLI passes ``--option method.key=value`` values as text).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = ["positive_int", "nonneg_int", "positive_float", "nonneg_float", "unit_interval",
           "one_of", "optional", "bool_", "pattern_choice"]


def _number(v, what: str) -> float:
    if isinstance(v, bool):
        raise TypeError(f"must be {what}, got {v!r}")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"must be {what}, got {v!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"must be {what}, got {v!r}")
    return x


def _integer(v, what: str) -> int:
    if isinstance(v, str):
        try:
            v = int(v)
        except ValueError:
            raise TypeError(f"must be {what}, got {v!r}") from None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return int(v)
        raise TypeError(f"must be {what}, got {v!r}")
    return int(v)


def positive_int(v) -> int:
    """An integer >= 1."""
    x = _integer(v, "a positive integer")
    if x < 1:
        raise ValueError(f"must be a positive integer, got {v!r}")
    return x


def nonneg_int(v) -> int:
    """An integer >= 0."""
    x = _integer(v, "an integer >= 0")
    if x < 0:
        raise ValueError(f"must be an integer >= 0, got {v!r}")
    return x


def positive_float(v) -> float:
    """A finite number > 0."""
    x = _number(v, "a finite number > 0")
    if not x > 0:
        raise ValueError(f"must be a finite number > 0, got {v!r}")
    return x


def nonneg_float(v) -> float:
    """A finite number >= 0."""
    x = _number(v, "a finite number >= 0")
    if not x >= 0:
        raise ValueError(f"must be a finite number >= 0, got {v!r}")
    return x


def unit_interval(v) -> float:
    """A number in [0, 1)."""
    x = _number(v, "a number in [0, 1)")
    if not 0.0 <= x < 1.0:
        raise ValueError(f"must be in [0, 1), got {v!r}")
    return x


def bool_(v) -> bool:
    """True/False (also the strings true/false/1/0/yes/no)."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, str) and v.lower() in ("true", "1", "yes", "false", "0", "no"):
        return v.lower() in ("true", "1", "yes")
    raise TypeError(f"must be true or false, got {v!r}")


def one_of(*choices: Any) -> Callable[[Any], Any]:
    """One of the given values."""
    def check(v):
        if v in choices:
            return v
        raise ValueError(f"must be one of {', '.join(map(repr, choices))}, got {v!r}")
    return check


def optional(validator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """None, or a value that ``validator`` accepts."""
    def check(v):
        return None if v is None else validator(v)
    return check


def pattern_choice(v):
    """Activation patterns for a polar oracle: ``"auto"``, ``"exact"`` or a positive int
    (number of sampled Gaussian gates)."""
    if v in ("auto", "exact"):
        return v
    try:
        return positive_int(v)
    except (TypeError, ValueError):
        raise ValueError(f"must be 'auto', 'exact' or a positive int (sampled gates), "
                         f"got {v!r}") from None
