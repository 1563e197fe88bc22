"""Data-quality marks of every value: which codes apply, from a value's counts and reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .i18n import t

# The order is the order shown and exported; each code is one bit of the mask.
CODES = ("low_completeness", "small_numbers", "over_100", "outlier", "estimated_denominator")
BITS = {code: 1 << k for k, code in enumerate(CODES)}
# Each possible mask as its tuple of codes: a column of masks becomes a column of tuples by one
# fancy index instead of a Python loop (a region scorecard has 100,000 cells).
_TUPLES = np.empty(1 << len(CODES), dtype=object)
for _m in range(len(_TUPLES)):
    _TUPLES[_m] = tuple(c for c in CODES if _m & BITS[c])

# WHO Data Quality Review defaults, from the WHO data-quality app (dhis2/who-data-quality-app,
# commit c3fac52, 2020-12-02): dataset completeness threshold 90 % (src/appCore/d2Map.js
# addDataset: ds.threshold = 90); a moderate outlier has a modified z-score >= 3.5
# (appServiceDataAnalysis.js outlierGap: criteria.moderate.z = 3.5; extreme: 5). The outlier
# counts themselves are computed with that 3.5 in dashboard.rollups (OUTLIER_Z).
WHO_COMPLETENESS = 90.0


@dataclass(frozen=True)
class QualityRules:
    """Thresholds of the marks (Settings: DASHBOARD_DQ_COMPLETENESS, DASHBOARD_SMALL_COUNT,
    DASHBOARD_SMALL_DENOMINATOR, DASHBOARD_DQ_OUTLIER_SHARE)."""

    # Reporting completeness below this % of expected reports (WHO DQR default 90).
    completeness: float = WHO_COMPLETENESS
    # A numerator of 1 to this-1 events, or a denominator under it: one case swings the rate.
    small_count: int = 5
    # Zero events over fewer than this many people is no evidence of zero: by the "rule of
    # three" the 95 % upper bound of 0 out of n is 3/n (0 deaths out of 40 births: up to 7.5 %).
    small_denominator: int = 100
    # Marked when more than this % of the values reported by the unit (a facility, or every
    # facility under a district, region or the country) in the span are outliers. A project
    # choice: the rollup counts outliers of every data element, and with "any outlier" 96 % of
    # the demo's regional values and a fifth of its facility months would carry the mark
    # (the demo's share is 1.3 % at the median; 5 % marks a noisy month, not every value).
    outlier_share: float = 5.0


def quality_masks(
    *,
    numerator: np.ndarray,
    denominator: np.ndarray,
    value: np.ndarray,
    completeness: np.ndarray,
    outliers: np.ndarray,
    values_reported: np.ndarray,
    coverage: bool,
    rules: QualityRules,
    estimated: np.ndarray | None = None,
) -> np.ndarray:
    """Bit mask of the codes that apply to each value (arrays of one shape). No value: only
    the reporting and outlier codes can apply. `estimated`: True where the denominator rests
    on a population the product (or the ministry) estimated rather than an official figure."""
    has = ~np.isnan(value)
    num = np.nan_to_num(numerator)
    den = np.nan_to_num(denominator)
    out = np.nan_to_num(outliers)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = completeness < rules.completeness  # NaN (nothing expected): False
        small = has & (
            (den < rules.small_count)
            | ((num > 0) & (num < rules.small_count))
            | ((num == 0) & (den < rules.small_denominator))
        )
        share = np.where(values_reported > 0, 100.0 * out / values_reported, 0.0)
        outlier = share > rules.outlier_share
        over = has & (value > 100.0) if coverage else np.zeros(value.shape, dtype=bool)
    mask = np.zeros(value.shape, dtype=np.int64)
    mask |= np.where(low, BITS["low_completeness"], 0)
    mask |= np.where(small, BITS["small_numbers"], 0)
    mask |= np.where(over, BITS["over_100"], 0)
    mask |= np.where(outlier, BITS["outlier"], 0)
    if estimated is not None:
        mask |= np.where(has & estimated, BITS["estimated_denominator"], 0)
    return mask


def as_codes(masks: np.ndarray) -> np.ndarray:
    """Object array of code tuples, one per mask."""
    return _TUPLES[np.asarray(masks, dtype=np.int64)]


def has(codes: Iterable[str] | None, code: str) -> bool:
    return bool(codes) and code in (codes or ())


def quality_words(codes: Iterable[str] | None, lang: str) -> str:
    """The codes in words, in the page's language ('' when none applies)."""
    return "; ".join(t(f"dq_{c}", lang) for c in (codes or ()))


def quality_text(codes: Iterable[str] | None, lang: str, rules: QualityRules | None = None) -> str:
    """A sentence per code, for a hover or focus title: what is wrong and why it matters."""
    r = rules or QualityRules()
    args = {
        "completeness": f"{r.completeness:g}",
        "small": r.small_count,
        "small_den": r.small_denominator,
        "share": f"{r.outlier_share:g}",
    }
    return " ".join(t(f"dq_{c}_long", lang, **args) for c in (codes or ()))


# The WHO Data Quality Review defaults of the /calidad page, copied from the WHO data-quality
# app (dhis2/who-data-quality-app, commit c3fac52, 2020-12-02): reporting completeness 90 and
# timeliness 75 (src/appCore/d2Map.js addDataset: ds.threshold, ds.timelinessThreshold); a
# moderate outlier has a modified z-score >= 3.5, an extreme one >= 5
# (appServiceDataAnalysis.js outlierGap); consistency over time 33 % from the mean of the 3
# preceding years (src/data/metaData.json numerators[*].consistency, review.js
# precedingYears); a dropout relation (Penta1 -> Penta3) is flagged when negative
# (metaData.json numeratorRelations R2, "Should not be negative"); two denominators of one
# population flagged beyond 10 % apart (denominatorRelations PR1 criteria = 10).
@dataclass(frozen=True)
class ReviewRules:
    """Thresholds of the data-quality review (Settings: DASHBOARD_DQR_*)."""

    completeness: float = 90.0  # 1a: a unit at or below this % of expected reports
    timeliness: float = 75.0  # 1b: at or below this % of expected reports on time
    moderate_z: float = 3.5  # 2a: modified z-score of a moderate outlier
    extreme_z: float = 5.0  # 2b: of an extreme outlier
    consistency: float = 33.0  # 2d: % off the mean of the three years before
    dropout: float = 0.0  # 2e: a dropout (A - B) / A below this % (negative: B > A)
    denominator: float = 10.0  # 4a: % between the official population and the alternative
