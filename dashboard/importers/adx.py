"""Read ADX (IHE Aggregate Data Exchange, XML as DHIS2 writes it) as data values.

Parsed with defusedxml's SAX reader: a DOCTYPE, an entity declaration or an external reference
is refused before any expansion (an XML bomb never inflates), and every element has its line.
"""

from __future__ import annotations

import xml.sax
from typing import Any
from xml.sax.handler import ContentHandler

import defusedxml.sax
from defusedxml import DefusedXmlException

from ..interop.vocab import period_from_adx
from .common import FileProblem
from .structured import Cells

ADX_NS = "urn:ihe:qrph:adx:2015"
# Attributes of <group> that are not attribute option combos, and of <dataValue> that are not
# disaggregations.
GROUP_KNOWN = {"orgUnit", "period", "dataSet", "completeDate"}
VALUE_KNOWN = {"dataElement", "value"}


def sniff(head: str) -> bool:
    return "<adx" in head or ADX_NS in head


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


class _Handler(ContentHandler):
    def __init__(self, out: Cells):
        super().__init__()
        self.out = out
        self.depth = 0
        self.root: str | None = None
        self.group: dict[str, str] | None = None
        self.group_line = 0
        self.group_ok = False

    def line(self) -> int:
        loc = getattr(self, "_locator", None)
        return loc.getLineNumber() if loc is not None else 0

    def startElement(self, name: str, attrs: Any) -> None:
        tag = _local(name)
        self.depth += 1
        n = self.line()
        if self.depth == 1:
            self.root = tag
            if tag != "adx":
                raise FileProblem("not_adx", row=n, where=f"line {n} <{tag}>")
            return
        if tag == "group" and self.depth == 2:
            self.group = {_local(k): v for k, v in attrs.items()}
            self.group_line = n
            self.group_ok = self._check_group(n)
        elif tag == "dataValue" and self.group is not None and self.depth == 3:
            if self.group_ok:
                self._value({_local(k): v for k, v in attrs.items()}, n)

    def endElement(self, name: str) -> None:
        if _local(name) == "group" and self.depth == 2:
            self.group = None
        self.depth -= 1

    def _check_group(self, n: int) -> bool:
        g = self.group or {}
        where = f"line {n} <group>"
        ok = True
        for attr in ("orgUnit", "period"):
            if not g.get(attr, "").strip():
                self.out.problem(f"{where} @{attr}", None, "missing_value")
                ok = False
        if ok and period_from_adx(g["period"]) is None:
            self.out.problem(f"{where} @period", g["period"], "period_not_month_quarter_year")
            ok = False
        return ok

    def _value(self, attrs: dict[str, str], n: int) -> None:
        g = self.group or {}
        pe = period_from_adx(g["period"])
        assert pe is not None
        where = f"line {n} <dataValue>"
        gwhere = f"line {self.group_line} <group>"
        disagg = sorted((k, v) for k, v in attrs.items() if k not in VALUE_KNOWN)
        aoc = sorted((k, v) for k, v in g.items() if k not in GROUP_KNOWN)
        self.out.add(
            {
                "data_element": attrs.get("dataElement", ""),
                "period": pe.id,
                "org_unit": g["orgUnit"],
                "coc": ";".join(f"{k}={v}" for k, v in disagg),
                "aoc": ";".join(f"{k}={v}" for k, v in aoc),
                "value": attrs.get("value", ""),
            },
            {
                "data_element": f"{where} @dataElement",
                "value": f"{where} @value",
                "org_unit": f"{gwhere} @orgUnit",
                "period": f"{gwhere} @period",
                "coc": where,
                "aoc": gwhere,
            },
        )


def _line_of(text: str, *needles: str) -> int:
    for needle in needles:
        i = text.find(needle)
        if i != -1:
            return text.count("\n", 0, i) + 1
    return 0


def read_adx(file: str, text: str) -> Cells:
    out = Cells(file)
    handler = _Handler(out)
    try:
        defusedxml.sax.parseString(
            text.encode("utf-8"),
            handler,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
    except DefusedXmlException as exc:
        line = _line_of(text, "<!DOCTYPE", "<!ENTITY", "SYSTEM")
        raise FileProblem("xml_forbidden", row=line, where=f"line {line}") from exc
    except xml.sax.SAXParseException as exc:
        n = exc.getLineNumber() or 0
        raise FileProblem("bad_xml", row=n, where=f"line {n}", error=exc.getMessage()) from exc
    if handler.root is None:
        raise FileProblem("empty_file")
    if not out.rows and not out.problems:
        raise FileProblem("no_rows")
    return out
