"""Checking values that come from outside (TOML, JSON, the API): the one number check."""

from __future__ import annotations

import math


def shown(v) -> str:
    """A client's value for an error message: its repr, cut short."""
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "…"


def number(v, key: str, lo: float, hi: float, integer: bool = False, error: type = ValueError):
    """`v` as a float (or an int, with `integer`) in [lo, hi]; else `error` naming `key`,
    what was expected and the allowed range. Booleans are not numbers here."""
    # finite first: int() of an infinity raises OverflowError, and NaN passes every range
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or (integer and v != int(v)):
        raise error(f"{key}: expected {'an integer' if integer else 'a number'}, got {shown(v)}")
    if not lo <= v <= hi:
        raise error(f"{key}={v}: allowed range is {lo}–{hi}")
    return int(v) if integer else float(v)
