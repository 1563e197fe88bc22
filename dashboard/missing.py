"""One test for "no value" (None, NaN, pandas' NA and NaT), used wherever a value may be absent."""

from __future__ import annotations

import pandas as pd


def is_missing(value: object) -> bool:
    """True when there is no value. Zero is a value; so is an empty string."""
    if value is None:
        return True
    if isinstance(value, float):  # the common case first: float and numpy.float64
        return value != value
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array is not one missing value
        return False
