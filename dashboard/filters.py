"""The view state and its URL codec: a copied link reproduces the view; bad input falls back."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from urllib.parse import parse_qs, urlencode

from .catalog import FACILITY_TYPES, Catalog, OrgUnit, Scope
from .i18n import DEFAULT_LANG, LANGS
from .periods import RELATIVE, Period, PeriodError, last_complete_month, month_period, parse_period

DEFAULT_INDICATOR = "INM-03"
DEFAULT_PERIOD = "LAST_12_MONTHS"
GRAINS = ("month", "quarter", "year")
MAP_VIEWS = ("map", "tiles")
# Equidad: each unit on its own, or units summed into groups (dashboard.equity).
GROUPINGS = ("unidad", "tipo", "chaco", "metro", "quintil")
# Public URL parameter names (part of the interface, documented in README).
KEYS = {
    "lang": "lang",
    "region": "region",
    "district": "distrito",
    "ftype": "tipo",
    "indicator": "indicador",
    "period": "periodo",
    "grain": "escala",
    "compare": "comparar",
    "view": "vista",
    "points": "puntos",
    "sort": "orden",
    "domain": "dominio",
    "facility": "establecimiento",
    "grouping": "agrupar",
    "page": "pag",
}
PAGES = (
    "resumen",
    "mapa",
    "tendencias",
    "desempeno",
    "establecimiento",
    "paquete",
    "calidad",
    "equidad",
    "ods",
)
PATHS = {
    "resumen": "/",
    "mapa": "/mapa",
    "tendencias": "/tendencias",
    "desempeno": "/desempeno",
    "establecimiento": "/establecimiento",
    "paquete": "/paquete",  # the printable regional pack (not in the navigation)
    "calidad": "/calidad",
    "equidad": "/equidad",
    "ods": "/ods",
}


@dataclass(frozen=True)
class Filters:
    lang: str = DEFAULT_LANG
    region: str | None = None
    district: str | None = None
    ftype: str | None = None
    indicator: str = DEFAULT_INDICATOR
    period: str = DEFAULT_PERIOD
    grain: str = "month"
    compare: tuple[str, ...] = ()
    view: str = "map"
    points: bool | None = (
        None  # facility layer: None = automatic (off nationally, on inside a region)
    )
    sort: str | None = None  # scorecard: '<column>' ascending or '-<column>' descending
    domain: str | None = None  # scorecard: indicator domain shown as columns
    facility: str | None = None  # tendencias: one facility's trend (its district and region set)
    grouping: str | None = None  # equidad: how units are grouped (None = each unit)
    page: int = 1  # scorecard: which page of rows (large tables are paginated on the server)

    # --- URL -----------------------------------------------------------------------------
    def to_query(self) -> str:
        """The query string (with '?'), leaving out defaults so links stay short. Kept per
        filter set: a table of a hundred facilities links each with the same query."""
        return _query(self)

    def _to_query(self) -> str:
        default = Filters()
        pairs = []
        for field, key in KEYS.items():
            value = getattr(self, field)
            if value == getattr(default, field):
                continue
            if field == "compare":
                value = ",".join(value)
            elif field == "points":
                value = "1" if value else "0"  # None is the default, left out above
            pairs.append((key, value))
        return "?" + urlencode(pairs) if pairs else ""

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)  # type: ignore[arg-type]

    def focus(self, unit: OrgUnit, catalog: Catalog) -> Filters:
        """The same view of another org unit (the drill-down and breadcrumb rule of every page):
        the country clears region and district, a region clears the district, a district carries
        its region, a facility its district and region."""
        codes = {u.level: u.code for u in catalog.path(unit)}
        return self.with_(region=codes.get(1), district=codes.get(2), facility=None)

    # --- what the view shows ---------------------------------------------------------------
    def unit_code(self) -> str:
        return self.district or self.region or "PY"

    def show_points(self) -> bool:
        """The facility layer: 1,300 points would bury the national map, so automatic mode
        shows them once a region or district is chosen."""
        return self.points if self.points is not None else bool(self.region or self.district)

    def ftypes(self) -> tuple[str, ...] | None:
        return (self.ftype,) if self.ftype else None


@lru_cache(maxsize=4096)
def _query(f: Filters) -> str:
    return f._to_query()


def parse_query(search: str | None) -> dict[str, str]:
    """First value of each parameter; tolerant of a leading '?' and junk."""
    raw = parse_qs((search or "").lstrip("?"), keep_blank_values=False)
    return {k: v[0].strip() for k, v in raw.items() if v and v[0].strip()}


def from_query(
    search: str | None, catalog: Catalog, today: date, scope: Scope | None = None
) -> Filters:
    """Validate at the edge: unknown codes are dropped, periods fall back, the scope applies."""
    q = parse_query(search)
    scope = scope or Scope.national()
    get = {field: q.get(key) for field, key in KEYS.items()}

    def visible(code: str | None, level: int) -> OrgUnit | None:
        unit = catalog.unit(code) if code else None
        if unit is None or unit.level != level or not catalog.in_scope(unit, scope):
            return None
        return unit

    lang = get["lang"] if get["lang"] in LANGS else DEFAULT_LANG
    region = visible(get["region"], 1)
    district = visible(get["district"], 2)
    facility = visible(get["facility"], 3)
    if facility is not None:
        home = catalog.parent(facility)
        if region is None and district is None:
            district = home
        elif district is None or district.id != home.id:
            facility = None  # another district was chosen since: the facility no longer applies
    if district is not None:
        parent = catalog.parent(district)
        if region is None:
            region = parent if catalog.in_scope(parent, scope) else None
        elif parent.id != region.id:
            district = None  # a district of another region: keep the region, drop the district
    if region is None and district is None:
        # A region-scoped user starts at their own region, not at a country they cannot see.
        roots = catalog.scope_roots(scope)
        if roots and roots[0].level == 1:
            region = roots[0]
        elif roots and roots[0].level == 2:
            district = roots[0]
            region = catalog.parent(district)
    ftype = (get["ftype"] or "").upper()
    indicator = get["indicator"] if get["indicator"] in catalog.indicators else None
    if indicator is None:
        indicator = (
            DEFAULT_INDICATOR
            if DEFAULT_INDICATOR in catalog.indicators
            else next(iter(catalog.indicators), DEFAULT_INDICATOR)
        )
    period = clamp_period(get["period"], today)
    compare = tuple(
        c for c in dict.fromkeys((get["compare"] or "").split(",")) if visible(c, 1) is not None
    )[:6]
    domains = {i.domain for i in catalog.indicators.values()}
    sort = get["sort"] if get["sort"] and len(get["sort"]) <= 40 else None
    domain = get["domain"] if get["domain"] in domains else None
    if domain is not None and catalog.indicators[indicator].domain != domain:
        # The scorecard shows one area and ranks by the indicator, which the header line names:
        # they must agree. An indicator asked for in the link wins (its area is shown); a bare
        # area takes its first indicator.
        if get["indicator"] in catalog.indicators:
            domain = None
        else:
            indicator = next(
                (c for c, i in catalog.indicators.items() if i.domain == domain), indicator
            )
    return Filters(
        lang=lang,
        region=region.code if region else None,
        district=district.code if district else None,
        ftype=ftype if ftype in FACILITY_TYPES else None,
        indicator=indicator,
        period=period,
        grain=get["grain"] if get["grain"] in GRAINS else "month",
        compare=compare,
        view=get["view"] if get["view"] in MAP_VIEWS else "map",
        points={"1": True, "0": False}.get(get["points"] or ""),
        sort=sort,
        domain=domain,
        facility=facility.code if facility else None,
        grouping=get["grouping"] if get["grouping"] in GROUPINGS[1:] else None,
        page=_page_number(get["page"]),
    )


def _page_number(text: str | None) -> int:
    """A page number from 1 up; junk is page 1 (the layout clamps past the last page)."""
    if not text or not text.isdigit() or len(text) > 5:
        return 1
    return max(1, int(text))


def clamp_period(text: str | None, today: date) -> str:
    """A valid period id no later than the last complete month, else the default."""
    if not text:
        return DEFAULT_PERIOD
    try:
        p = parse_period(text, today)
    except PeriodError:
        return DEFAULT_PERIOD
    if text.upper() in RELATIVE:
        return text.upper()
    last = last_complete_month(today)
    if p.start > last:
        return DEFAULT_PERIOD
    if p.end > last:
        return f"{p.start}:{last}" if p.start != last else str(last)
    return p.id


def resolve_period(f: Filters, today: date) -> Period:
    try:
        return parse_period(f.period, today)
    except PeriodError:  # pragma: no cover - from_query already validated it
        return month_period(last_complete_month(today))


def path_page(pathname: str | None) -> tuple[str, str | None]:
    """('mapa', None) for '/mapa'; ('establecimiento', 'E010001') for the facility profile;
    unknown paths give ('not_found', None)."""
    path = (pathname or "/").rstrip("/") or "/"
    if path == "/":
        return "resumen", None
    parts = path.strip("/").split("/")
    if parts[0] == "establecimiento" and len(parts) == 2 and parts[1]:
        return "establecimiento", parts[1]
    if len(parts) == 1 and parts[0] in PAGES and parts[0] not in ("resumen", "establecimiento"):
        return parts[0], None
    return "not_found", None


def href(page: str, f: Filters, facility: str | None = None) -> str:
    """A link to a page keeping every filter."""
    path = PATHS.get(page, "/")
    if page == "establecimiento" and facility:
        path = f"{path}/{facility}"
    return path + f.to_query()


def unit_href(page: str, f: Filters, unit: OrgUnit, catalog: Catalog, **changes: object) -> str:
    """The link a unit's name carries: a facility opens its profile; any other unit shows `page`
    for that unit, with `changes` (e.g. sort=None) applied."""
    if unit.level == 3:
        return href("establecimiento", f, facility=unit.code)
    return href(page, f.focus(unit, catalog).with_(**changes))


def ignored_params(search: str | None, f: Filters) -> list[tuple[str, str]]:
    """The address's known parameters whose value the view did not take, as (name, value) in
    the codec's order: an unknown or out-of-scope code, a period that cannot be read or
    lies ahead, a language the product does not have. Defaults written out in full, letter
    case, and parameters the product does not know (e.g. utm_source) are not reported."""
    asked = parse_query(search)
    out = []
    for field, key in KEYS.items():
        if key not in asked:
            continue
        value = getattr(f, field)
        if field == "compare":
            taken = ",".join(value)
        elif field == "points":
            taken = "" if value is None else ("1" if value else "0")
        else:
            taken = "" if value is None else str(value)
        if asked[key].casefold() != taken.casefold():
            # Cut short: the address is the user's (or anyone's) text and goes back into a store.
            value = asked[key]
            out.append((key, value if len(value) <= 60 else value[:59] + "…"))
    return out


def page_exists(pathname: str | None, catalog: Catalog, scope: Scope | None = None) -> bool:
    """Whether a path names a page of the product: a known page, or the profile of a facility
    of the catalogue within the caller's scope (anything else answers 404)."""
    page, code = path_page(pathname)
    if page == "not_found":
        return False
    if page == "establecimiento":
        unit = catalog.unit(code) if code else None
        return (
            unit is not None
            and unit.level == 3
            and catalog.in_scope(unit, scope or Scope.national())
        )
    return True


def find_indicator(text: str | None, catalog: Catalog) -> str | None:
    """The indicator a search box's text names: a suggestion as offered ('Name · CODE'), a
    code in any letter case, or a name (either language, accents and case ignored) that one
    indicator alone contains; None when nothing or more than one matches."""
    from .i18n import collation_key

    q = (text or "").strip()[:200]
    if not q:
        return None
    code = q.rsplit("·", 1)[-1].strip().upper()
    if code in catalog.indicators:
        return code
    needle = collation_key(q)
    hits = [
        i.code
        for i in catalog.indicators.values()
        if needle in collation_key(i.name_es) or needle in collation_key(i.name_en)
    ]
    return hits[0] if len(hits) == 1 else None
