"""is_missing: the one test for "no value" across the product."""

import numpy as np
import pandas as pd
import pytest

from dashboard.missing import is_missing


@pytest.mark.parametrize(
    "value", [None, float("nan"), np.nan, np.float32("nan"), pd.NA, pd.NaT, np.datetime64("NaT")]
)
def test_is_missing_recognises_every_kind_of_no_value(value):
    assert is_missing(value)


@pytest.mark.parametrize("value", [0, 0.0, -1.5, np.float64(2.0), np.int64(0), "", "x", [1, 2]])
def test_is_missing_keeps_zero_and_real_values(value):
    assert not is_missing(value)
