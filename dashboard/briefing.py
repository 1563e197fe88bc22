"""Lo más importante del mes: up to eight findings for a unit and period, by written rules.

Every rule reads its numbers through the same query as the pages (views._evaluate, sdg_progress);
each finding carries its numbers, its importance and the view that shows it. The sentence is a
locale template filled with those numbers: no generated text. The rules (README, "Briefing"):

1. status_worse / status_better: a key indicator of the unit changed status against the
   previous period (worse first).
2. deterioration: a key indicator moved the wrong way against a year earlier by more than
   NOISE_SD standard deviations of its month-to-month changes over the 12 months before, on
   numbers that are not small; with the fewest child units that explain DRIVERS_SHARE of it.
3. children_below: child units that met or neared the selected indicator's target in the
   previous period and miss it now (small numbers left out).
4. not_reporting: facilities expected to report that sent no report in either of the last two
   months of the period.
5. quality: the unit's reporting completeness under the threshold, and key values marked as
   over 100 % or outliers (dashboard.quality).
6. sdg_off_track: an SDG indicator off track that was not a year earlier (and, lower, one still
   off track).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .catalog import Indicator, OrgUnit
from .filters import Filters, href, resolve_period
from .frames import frame_rows
from .i18n import fmt_number, fmt_period, fmt_value, t
from .missing import is_missing
from .periods import RELATIVE, Period, add_months, month_period, period_for_span
from .quality import quality_words
from .sdg import sdg_progress
from .views import (
    Context,
    _evaluate,
    _small,
    child_level,
    children,
    kpi_codes,
    selected_unit,
)

MAX_FINDINGS = 8
NOISE_SD = 2.0  # a change beyond two SDs of the month-to-month changes is not noise
DRIVERS_SHARE = 0.7  # "k of n districts explain 70 % of the fall"
SILENT_MONTHS = 2
NAMES_SHOWN = 3
SINGULAR = {
    "brief_worse_up_drivers",
    "brief_worse_down_drivers",
    "brief_children_below",
    "brief_not_reporting",
}
WORSE = {("met", "near"), ("met", "not_met"), ("near", "not_met")}
BETTER = {("not_met", "met"), ("near", "met"), ("not_met", "near")}


@dataclass(frozen=True)
class Finding:
    kind: str
    score: float  # importance: larger first
    key: str  # locale template of the sentence
    params: dict[str, Any]  # raw numbers and names; formatted by text()
    page: str  # the view that shows it
    changes: dict[str, Any] = field(default_factory=dict)  # filters of that view
    decimals: int = 1
    units: dict[str, str] = field(default_factory=dict)  # the indicator's unit by language

    def text(self, lang: str) -> str:
        # "1 establecimiento no envía" / "3 establecimientos no envían": a singular template.
        one = self.params.get("k", self.params.get("n")) == 1 and self.key in SINGULAR
        return t(self.key + "_one" if one else self.key, lang, **_formatted(self, lang))

    def href(self, f: Filters) -> str:
        return href(self.page, f.with_(**self.changes))


def _formatted(fd: Finding, lang: str) -> dict[str, str]:
    out = {}
    for k, v in fd.params.items():
        if k.startswith("value") and isinstance(v, float):
            out[k] = fmt_value(v, fd.units.get(lang, ""), lang, fd.decimals)
        elif k == "pct_change" and isinstance(v, float):
            out[k] = ("+" if v > 0 else "") + fmt_number(v, lang, 1)
        elif k.startswith("pct") and isinstance(v, float):
            out[k] = fmt_number(v, lang, 0 if k == "pct_share" else 1)
        elif k.startswith("ind"):
            out[k] = v[lang] if isinstance(v, dict) else str(v)
        elif k.startswith("status"):
            out[k] = t(f"status_{v}", lang).lower()
        elif k.startswith("period") and isinstance(v, Period):
            out[k] = fmt_period(v, lang)
        elif k == "level":
            out[k] = t(f"level_{v}", lang).lower()
        elif k == "words":
            out[k] = quality_words(v, lang)
        elif isinstance(v, float):
            out[k] = fmt_number(v, lang, 1)
        else:
            out[k] = str(v)
    return out


@dataclass
class Briefing:
    unit: OrgUnit
    period: Period
    findings: list[Finding]

    def as_dicts(self, lang: str, f: Filters) -> list[dict]:
        return [
            {"kind": x.kind, "text": x.text(lang), "href": x.href(f), "score": x.score}
            for x in self.findings
        ]


def briefing_period(f: Filters, ctx: Context) -> Period:
    """The chosen period; a relative one (the default, last 12 months) becomes its last month,
    the last complete month."""
    p = resolve_period(f, ctx.today)
    return month_period(p.end) if f.period in RELATIVE else p


def _name(ind: Indicator) -> dict[str, str]:
    return {"es": ind.name_es, "en": ind.name_en}


def _names(names: list[str]) -> str:
    """The first NAMES_SHOWN names, then how many more: 'A, B, C +2'."""
    rest = len(names) - NAMES_SHOWN
    return ", ".join(names[:NAMES_SHOWN]) + (f" +{rest}" if rest > 0 else "")


def _units(ind: Indicator) -> dict[str, str]:
    return {"es": ind.unit_es, "en": ind.unit_en}


def _val(v: Any) -> float | None:
    return None if is_missing(v) else float(v)


def _worse_by(ind: Indicator, before: float, now: float) -> float:
    """How much worse now is, in the indicator's units (positive = worse); 0 for a band."""
    if ind.direction == "up":
        return before - now
    if ind.direction == "down":
        return now - before
    return 0.0


def build(ctx: Context, f: Filters) -> Briefing:
    """The findings (language-free: text and links are made from them for a language).
    Memoised per data version (Catalog.memo) on everything the rules read."""
    unit = selected_unit(ctx, f)
    p = briefing_period(f, ctx)
    key = (
        "briefing",
        ctx.scope,
        unit.code,
        p,
        f.indicator,
        f.ftype,
        ctx.today,
        ctx.rules,
        ctx.suppress,
        ctx.small_count,
    )
    return ctx.cat.memo(key, lambda: _build(ctx, f, unit, p))


def _build(ctx: Context, f: Filters, unit: OrgUnit, p: Period) -> Briefing:
    cat = ctx.cat
    inds = [cat.indicators[c] for c in kpi_codes(f, cat)]
    prev, ly = p.previous(), p.year_earlier()
    spans = list(dict.fromkeys([p, prev, ly]))
    # One evaluation for the periods compared and the 12 months whose changes measure the
    # noise: each costs a round of reads. Keyed by id: a month may be both.
    noise_months = _noise_months(p.start)
    periods = list({q.id: q for q in [*noise_months, *spans]}.values())
    both = _evaluate(ctx, inds, [unit], periods, f.ftypes())
    noise_of = month_noise(both, noise_months)
    frame = both[both.period.isin([q.id for q in spans])].reset_index(drop=True)
    frame["small"] = _small(frame, ctx) if len(frame) else []
    by = {(r.indicator, r.period): r for r in frame_rows(frame)}
    out: list[Finding] = []
    pf = f.with_(period=p.id)
    out += _status_changes(inds, by, unit, p, prev)
    out += _deteriorations(ctx, pf, inds, by, unit, p, ly, noise_of)
    out += _children_below(ctx, pf, cat.indicators.get(f.indicator), unit, p, prev)
    out += _not_reporting(ctx, pf, unit, p)
    out += _quality(ctx, inds, by, unit, p)
    out += _sdg(ctx, unit)
    out = [replace(x, changes={"period": p.id, **x.changes}) for x in out]
    out.sort(key=lambda x: (-x.score, x.kind, x.key, str(x.params.get("unit", ""))))
    return Briefing(unit, p, out[:MAX_FINDINGS])


def _status_changes(inds, by, unit, p, prev) -> list[Finding]:
    out = []
    for ind in inds:
        now, before = by.get((ind.code, p.id)), by.get((ind.code, prev.id))
        if now is None or before is None or now.small or before.small:
            continue
        change = (before.status, now.status)
        worse = change in WORSE
        if not worse and change not in BETTER:
            continue
        out.append(
            Finding(
                kind="status_worse" if worse else "status_better",
                score=(90 if worse else 40) + (5 if now.status == "not_met" else 0),
                key="brief_status_worse" if worse else "brief_status_better",
                params={
                    "unit": unit.name,
                    "ind": _name(ind),
                    "status_before": before.status,
                    "status_now": now.status,
                    "value_now": float(now.value),
                    "value_before": float(before.value),
                    "period_before": prev,
                },
                page="tendencias",
                changes={"indicator": ind.code},
                decimals=ind.decimals,
                units=_units(ind),
            )
        )
    return out


def _noise_months(end: int) -> list[Period]:
    """The 12 months before `end`, oldest first."""
    return [period_for_span(m, m) for m in (add_months(end, -k) for k in range(12, 0, -1))]


def month_noise(frame: pd.DataFrame, months: Sequence[Period]) -> dict[str, float]:
    """Standard deviation of each indicator's month-to-month changes over those months (at
    least three changes), from an evaluated frame holding them (in month order)."""
    rows = frame[frame.period.isin([m.id for m in months])]
    out = {}
    codes = rows["indicator"].to_numpy()
    values = rows["value"].to_numpy(dtype=float)
    for code in dict.fromkeys(codes.tolist()):
        diffs = np.diff(values[codes == code])
        diffs = diffs[~np.isnan(diffs)]
        if len(diffs) >= 3:
            out[str(code)] = float(np.std(diffs, ddof=1))
    return out


def drivers(
    rows: pd.DataFrame, ratio_before: float, den_now: float, worse_sign: float
) -> tuple[int, int, float] | None:
    """The fewest child units that explain DRIVERS_SHARE of a change of Σnum/Σden.

    Exact decomposition: N1/D1 − N0/D0 = Σ_i [(N1_i − N0_i) − R0 (D1_i − D0_i)] / D1, with R0 =
    N0/D0. rows: num_now, den_now, num_before, den_before per child. Returns (k, n, share %)."""
    c = (
        (rows.num_now.fillna(0) - rows.num_before.fillna(0))
        - ratio_before * (rows.den_now.fillna(0) - rows.den_before.fillna(0))
    ) / den_now
    bad = (c * worse_sign).clip(lower=0).sort_values(ascending=False)
    total = float((c * worse_sign).sum())
    if total <= 0 or bad.empty:
        return None
    cum = bad.cumsum() / total
    k = int((cum < DRIVERS_SHARE).sum()) + 1
    k = min(k, len(bad))
    return k, len(rows), float(min(cum.iloc[k - 1], 1.0) * 100)


def _deteriorations(ctx, f, inds, by, unit, p, ly, noise_of) -> list[Finding]:
    out: list[Finding] = []
    if p == ly:
        return out
    for ind in inds:
        now, before = by.get((ind.code, p.id)), by.get((ind.code, ly.id))
        if now is None or before is None or now.small or before.small:
            continue
        if "low_completeness" in now.quality or "low_completeness" in before.quality:
            continue  # missing reports, not a change in care: the quality rule says so
        a, b = _val(before.value), _val(now.value)
        if a is None or b is None or ind.direction == "band":
            continue
        worse = _worse_by(ind, a, b)
        if worse <= 0:
            continue
        noise = noise_of.get(ind.code)
        if noise is None or worse <= NOISE_SD * noise:
            continue
        params: dict[str, Any] = {
            "unit": unit.name,
            "ind": _name(ind),
            "value_before": a,
            "value_now": b,
            "period_before": ly,
        }
        key = "brief_worse_up" if ind.direction == "up" else "brief_worse_down"
        kids = children(ctx, unit) if unit.level < 3 else []
        if kids and len(kids) > 1:
            res = _evaluate(ctx, [ind], kids, [p, ly], f.ftypes())
            wide = res.pivot(
                index="org_unit", columns="period", values=["numerator", "denominator"]
            )
            rows = pd.DataFrame(
                {
                    "num_now": wide[("numerator", p.id)],
                    "den_now": wide[("denominator", p.id)],
                    "num_before": wide[("numerator", ly.id)],
                    "den_before": wide[("denominator", ly.id)],
                }
            ).astype(float)
            rows = rows[(rows.den_now.fillna(0) > 0) | (rows.den_before.fillna(0) > 0)]
            r0 = float(before.numerator) / float(before.denominator)
            sign = -1.0 if ind.direction == "up" else 1.0
            found = drivers(rows, r0, float(now.denominator), sign)
            if found and found[0] <= max(1, len(rows) // 2):
                params |= {"k": found[0], "n": found[1], "pct_share": found[2]}
                params["level"] = {1: "regions", 2: "districts", 3: "facilities"}[child_level(unit)]
                key += "_drivers"
        rel = worse / abs(a) if a else 0.0
        out.append(
            Finding(
                kind="deterioration",
                score=80 + min(rel * 100, 14),
                key=key,
                params=params,
                page="mapa",
                changes={"indicator": ind.code},
                decimals=ind.decimals,
                units=_units(ind),
            )
        )
    return out


def _children_below(ctx, f, ind, unit, p, prev) -> list[Finding]:
    if ind is None or unit.level >= 3:
        return []
    kids = children(ctx, unit)
    if not kids:
        return []
    res = _evaluate(ctx, [ind], kids, [p, prev], f.ftypes())
    res["small"] = _small(res, ctx)
    # Plain columns, not a lookup by label per child (.at cost more than the evaluation).
    period = res["period"].tolist()
    codes, status, small = res["org_unit"].tolist(), res["status"].tolist(), res["small"].tolist()
    has = res["value"].notna().tolist()
    before = {codes[k]: status[k] for k in range(len(res)) if period[k] == prev.id}
    now = [k for k in range(len(res)) if period[k] == p.id and has[k]]
    fell = [
        codes[k]
        for k in now
        if status[k] == "not_met" and before.get(codes[k]) in ("met", "near") and not small[k]
    ]
    if not fell:
        return []
    shown = _names(sorted(ctx.cat.by_code[c].name for c in fell))
    return [
        Finding(
            kind="children_below",
            score=70 + min(len(fell), 10),
            key="brief_children_below",
            params={
                "unit": unit.name,
                "ind": _name(ind),
                "n": len(fell),
                "total": len(now),
                "level": {1: "regions", 2: "districts", 3: "facilities"}[child_level(unit)],
                "names": shown,
                "period_before": prev,
            },
            page="desempeno",
            changes={"indicator": ind.code},
        )
    ]


def _not_reporting(ctx, f, unit, p) -> list[Finding]:
    """Facilities open (so expected to report) in each of the last SILENT_MONTHS months of the
    period that sent no report in any of them (the report masks DQ-01 counts from)."""
    cat = ctx.cat
    facs = children(ctx, unit, 3) if unit.level < 3 else []
    months = [add_months(p.end, -k) for k in range(SILENT_MONTHS)]
    facs = [u for u in facs if all(cat.active_in(u, m) for m in months)]
    if not facs:
        return []
    sent = ctx.repo.facilities_reporting(ctx.scope, facs, None, [(min(months), p.end)])
    codes = [u.code for u in facs if not sent.get((u.id, 0))]
    if not codes:
        return []
    shown = _names(sorted(ctx.cat.by_code[c].name for c in codes))
    return [
        Finding(
            kind="not_reporting",
            score=75 + min(len(codes) / 10, 10),
            key="brief_not_reporting",
            params={"unit": unit.name, "n": len(codes), "names": shown, "months": SILENT_MONTHS},
            page="desempeno",
            changes={"indicator": "DQ-01", "sort": "DQ-01"},
        )
    ]


def _quality(ctx, inds, by, unit, p) -> list[Finding]:
    out = []
    dq = ctx.cat.indicators.get("DQ-01")
    row = by.get(("DQ-01", p.id)) if dq is not None else None
    if row is not None and _val(row.value) is not None and row.value < ctx.rules.completeness:
        out.append(
            Finding(
                kind="quality",
                score=65,
                key="brief_low_completeness",
                params={
                    "unit": unit.name,
                    "pct_value": float(row.value),
                    "pct_threshold": float(ctx.rules.completeness),
                },
                page="desempeno",
                changes={"indicator": "DQ-01"},
            )
        )
    flagged = []
    for ind in inds:
        r = by.get((ind.code, p.id))
        if r is None or ind.domain == "DQ":
            continue
        codes = [c for c in r.quality if c in ("over_100", "outlier")]
        if codes:
            flagged.append((ind, codes))
    for ind, codes in flagged[:2]:
        out.append(
            Finding(
                kind="quality",
                score=55,
                key="brief_quality_marks",
                params={"unit": unit.name, "ind": _name(ind), "words": codes},
                page="tendencias",
                changes={"indicator": ind.code},
            )
        )
    return out


def _sdg(ctx: Context, unit: OrgUnit) -> list[Finding]:
    now = sdg_progress(ctx, unit)
    year_ago = replace(ctx, today=ctx.today.replace(year=ctx.today.year - 1, day=1))
    before = {r.indicator: r.status for r in sdg_progress(year_ago, unit)}
    out = []
    for r in now:
        if r.status != "off_track":
            continue
        ind = ctx.cat.indicators[r.indicator]
        new = before.get(r.indicator) in ("achieved", "on_track")
        out.append(
            Finding(
                kind="sdg_off_track",
                score=85 if new else 30,
                key="brief_sdg_new_off_track" if new else "brief_sdg_off_track",
                params={
                    "unit": unit.name,
                    "ind": _name(ind),
                    "sdg": r.sdg,
                    "pct_change": float(r.annual_change or 0.0),
                    "value_projected": float(r.projected_2030 or np.nan),
                    "value_target": float(r.target_2030 or np.nan),
                },
                page="ods",
                changes={"indicator": ind.code},
                decimals=ind.decimals,
                units=_units(ind),
            )
        )
    return out
