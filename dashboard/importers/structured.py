"""Rows of values read from a structured file (FHIR, ADX), with the location of every cell."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .common import ImportReport, Problem
from .values import RawValues

# Our column -> the name the collector's problems carry (then replaced by the cell's location).
NAMES = {
    "data_element": "dataElement",
    "period": "period",
    "org_unit": "orgUnit",
    "coc": "disaggregation",
    "aoc": "attributeOptionCombo",
    "value": "value",
}
_OURS = {v: k for k, v in NAMES.items()}


@dataclass
class Cells:
    """Every value of a structured file as text, in document order, and where each came from."""

    file: str
    rows: list[int] = field(default_factory=list)
    cells: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in NAMES})
    where: dict[int, dict[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    counter: int = 0
    skipped: int = 0

    def next_row(self) -> int:
        self.counter += 1
        return self.counter

    def add(self, values: dict[str, str], where: dict[str, str]) -> None:
        n = self.next_row()
        self.rows.append(n)
        for k in NAMES:
            self.cells[k].append(values.get(k, ""))
        self.where[n] = where

    def problem(self, where: str, value: str | None, reason: str, **params: object) -> None:
        self.problems.append(
            Problem(self.file, self.next_row(), "", value, reason, dict(params), where=where)
        )

    def chunks(self, size: int) -> Iterator[RawValues]:
        n = len(self.rows)
        problems = list(self.problems)
        for i in range(0, max(n, 1), size):
            yield RawValues(
                self.file,
                {k: pd.Series(v[i : i + size], dtype=object) for k, v in self.cells.items()},
                np.array(self.rows[i : i + size], dtype=np.int64),
                dict(NAMES),
                decimal_comma=False,
                dhis2=True,
                problems=problems if i == 0 else [],
            )

    def locate(self, report: ImportReport) -> None:
        """Give the collector's row/column problems the location of their cell."""
        for p in report.problems:
            if p.where:
                continue
            spots = self.where.get(p.row)
            if spots is None:
                continue
            ours = _OURS.get(p.column, "value")
            p.where = spots.get(ours) or spots.get("value", "")
            if p.reason == "duplicate_conflict":
                first = self.where.get(int(p.params.get("first", 0)), {})
                p.params = {**p.params, "first": first.get("value", p.params.get("first"))}
