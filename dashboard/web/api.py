"""The read API under /api/v1: analytics (JSON or CSV), analytics.fhir, indicators, org-units
and its OpenAPI document. Personal access tokens only (`Authorization: Bearer`): a session
cookie opens nothing here, and a token opens nothing outside /api/v1."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, g, request

from ..accounts import Principal
from ..aggregate import query
from ..catalog import FACILITY_TYPES, LEVELS, Catalog, Scope
from ..config import Settings
from ..i18n import DEFAULT_LANG, LANGS, t
from ..interop.export import fhir_bundle
from ..periods import PeriodError, parse_period
from ..ratelimit import Limiter, MemoryLimiter, RedisLimiter
from ..repository import Repository
from ..suppression import restricted_rows
from ..tokens import ApiTokens
from .openapi import document

API_PREFIX = "/api/"
BASE = "/api/v1"
BY = ("region", "district", "facility", "month", "quarter", "year")
ROW_FIELDS = (
    "indicator",
    "org_unit",
    "org_unit_name",
    "level",
    "period",
    "numerator",
    "denominator",
    "value",
    "expected_reports",
    "received_reports",
    "completeness",
    "timeliness",
    "facilities_reporting",
    "target",
    "status",
    "quality",
)
# Error codes by HTTP status, for errors Flask raises itself (routing, body size).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


def _lang() -> str:
    lang = request.args.get("lang")
    if lang in LANGS:
        return lang
    best = request.accept_languages.best_match(list(LANGS))
    return best or DEFAULT_LANG


def json_error(status: int, code: str | None = None, **params: Any) -> Response:
    """{"code": …, "message": …} in the request's language; never HTML."""
    code = code or STATUS_CODES.get(status, "error")
    body = {"code": code, "message": t(f"api_error_{code}", _lang(), **params)}
    r = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    r.headers["Cache-Control"] = "no-store"
    if status == 401:
        r.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return r


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIX)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def make_api_limiter(settings: Settings) -> Limiter:
    """Requests per token per minute, shared through Redis when there is one."""
    if settings.redis_url:
        import redis

        return RedisLimiter(
            redis.Redis.from_url(settings.redis_url),
            prefix="dashboard:api:",
            max_failures=settings.api_rate_per_minute,
            window_s=60,
        )
    return MemoryLimiter(max_failures=settings.api_rate_per_minute, window_s=60)


class _Invalid(Exception):
    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code, self.params = code, params


def install(
    server: Flask,
    repo: Repository,
    settings: Settings,
    tokens: ApiTokens | None = None,
    limiter: Limiter | None = None,
) -> None:
    tokens = tokens or ApiTokens(repo.engine)
    limiter = limiter or make_api_limiter(settings)
    bp = Blueprint("api_v1", __name__, url_prefix=BASE)

    @bp.before_request
    def authenticate() -> Response | None:
        bearer = _bearer()
        found = tokens.account_for(bearer)
        if found is None or bearer is None:
            return json_error(401)
        _, acc = found
        principal = Principal(acc.email, acc.role, acc.scope, acc.id)
        if principal.sees_nothing:
            return json_error(403, "no_scope")
        # Counted per token (the limiter keys on its SHA-256, never the token itself).
        if limiter.fail("api:" + bearer) > settings.api_rate_per_minute:
            r = json_error(429)
            r.headers["Retry-After"] = "60"
            return r
        g.principal = principal
        return None

    def scope() -> Scope:
        return g.principal.scope

    def conditional(payload: Callable[[], tuple[str, str]]) -> Response:
        """ETag from the data version, the account's scope and the request: 304 when the
        client holds it already, without running the query."""
        version = repo.data_version() or "0"
        s = scope()
        basis = "|".join(
            [version, request.path, request.query_string.decode("latin-1"), _lang()]
            + [",".join(sorted(s.roots)), str(s.max_level), g.principal.role]
            + [request.headers.get("Accept", "")]
        )
        etag = hashlib.sha256(basis.encode()).hexdigest()[:32]
        if etag in request.if_none_match:
            r = Response(status=304)
        else:
            body, mimetype = payload()
            r = Response(body, mimetype=mimetype)
        r.set_etag(etag)
        r.headers["Cache-Control"] = "private, no-cache"
        r.headers["Vary"] = "Authorization, Accept, Accept-Language"
        return r

    def wants_csv() -> bool:
        fmt = request.args.get("format")
        if fmt:
            if fmt not in ("json", "csv"):
                raise _Invalid("bad_parameter", name="format", value=fmt[:40])
            return fmt == "csv"
        best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
        return best == "text/csv"

    def analytics_args(cat: Catalog):
        code = request.args.get("indicator", "")
        ind = cat.indicator(code)
        if ind is None:
            raise _Invalid("unknown_indicator", value=code[:40])
        unit_code = request.args.get("org_unit", "")
        unit = cat.unit(unit_code)
        if unit is None:
            raise _Invalid("unknown_org_unit", value=unit_code[:40])
        if not cat.in_scope(unit, scope()):
            raise _Invalid("outside_scope", value=unit_code[:40])
        try:
            period = parse_period(request.args.get("period", ""), settings.current_date())
        except PeriodError:
            raise _Invalid(
                "bad_parameter", name="period", value=request.args.get("period", "")[:40]
            ) from None
        by = request.args.get("by") or None
        if by is not None and by not in BY:
            raise _Invalid("bad_parameter", name="by", value=by[:40])
        ftypes = None
        if request.args.get("type"):
            ftypes = tuple(x.strip().upper() for x in request.args["type"].split(","))
            if any(x not in FACILITY_TYPES for x in ftypes):
                raise _Invalid("bad_parameter", name="type", value=request.args["type"][:40])
        return ind, unit, period, by, ftypes

    def run_query(cat: Catalog):
        asked = analytics_args(cat)
        ind, unit, period, by, ftypes = asked
        results = query(
            repo,
            scope(),
            ind,
            unit,
            period,
            by=by,
            ftypes=ftypes,
            rules=settings.quality_rules(),
            today=settings.current_date(),
        )
        return ind, results, asked

    def restricted(rows: list[dict], asked) -> list[dict]:
        """Restricted roles get the dashboard's own disclosure decisions (one canonical cube
        per unit's family), so the API can never be differenced against the pages."""
        if g.principal.role not in settings.restricted_roles:
            return rows
        return restricted_rows(
            repo, scope(), settings.current_date(), asked, rows, settings.suppress_threshold
        )

    def handle(view: Callable[[], Response]) -> Callable[[], Response]:
        def inner() -> Response:
            try:
                return view()
            except _Invalid as exc:
                status = 403 if exc.code == "outside_scope" else 400
                return json_error(status, exc.code, **exc.params)

        inner.__name__ = view.__name__
        return inner

    @bp.get("/analytics")
    @handle
    def analytics() -> Response:
        cat = repo.catalog()
        csv_out = wants_csv()
        analytics_args(cat)  # a bad request is 400 before any ETag

        def payload() -> tuple[str, str]:
            _, results, asked = run_query(cat)
            rows = restricted([r.as_dict() for r in results], asked)
            if csv_out:
                return rows_csv(rows), "text/csv"
            return json.dumps(rows, ensure_ascii=False), "application/json"

        return conditional(payload)

    @bp.get("/analytics.fhir")
    @handle
    def analytics_fhir() -> Response:
        cat = repo.catalog()
        analytics_args(cat)
        if g.principal.role in settings.restricted_roles:
            # Counts are the whole content of a MeasureReport: no small-count protection here.
            return json_error(403, "forbidden")

        def payload() -> tuple[str, str]:
            ind, results, _ = run_query(cat)
            created = datetime.now(UTC).replace(microsecond=0).isoformat()
            bundle = fhir_bundle(results, ind, cat, settings.current_date(), created)
            return json.dumps(bundle, ensure_ascii=False), "application/fhir+json"

        return conditional(payload)

    @bp.get("/indicators")
    @handle
    def indicators() -> Response:
        lang = _lang()

        def payload() -> tuple[str, str]:
            rows = [indicator_row(ind, lang) for ind in repo.catalog().indicators.values()]
            return json.dumps(rows, ensure_ascii=False), "application/json"

        return conditional(payload)

    @bp.get("/org-units")
    @handle
    def org_units() -> Response:
        cat = repo.catalog()
        level = request.args.get("level") or None
        if level is not None and level not in LEVELS:
            raise _Invalid("bad_parameter", name="level", value=level[:40])
        parent_code = request.args.get("parent") or None
        parent = cat.unit(parent_code) if parent_code else None
        if parent_code and (parent is None or not _visible(cat, parent, scope())):
            raise _Invalid("unknown_org_unit", value=parent_code[:40])

        def payload() -> tuple[str, str]:
            rows = org_unit_rows(cat, scope(), level, parent)
            return json.dumps(rows, ensure_ascii=False), "application/json"

        return conditional(payload)

    @bp.get("/openapi.json")
    def openapi() -> Response:
        r = Response(json.dumps(document(), ensure_ascii=False), mimetype="application/json")
        r.headers["Cache-Control"] = "public, max-age=3600"
        return r

    server.register_blueprint(bp)


def _visible(cat: Catalog, unit, scope: Scope) -> bool:
    """In scope, or an ancestor of the scope (a regional account sees the country's row)."""
    if cat.in_scope(unit, scope):
        return True
    return any(unit in cat.ancestors(r) for r in cat.scope_roots(scope))


def indicator_row(ind, lang: str) -> dict[str, Any]:
    tg = ind.target
    return {
        "code": ind.code,
        "domain": ind.domain,
        "name": ind.name(lang),
        "definition": ind.definition(lang),
        "numerator": ind.numerator.text,
        "denominator": ind.denominator.text,
        "factor": ind.factor,
        "unit": ind.unit(lang),
        "decimals": ind.decimals,
        "direction": ind.direction,
        "facility_types": list(ind.facility_types),
        "target": tg.target,
        "near": tg.near,
        "band_low": tg.band_low,
        "band_high": tg.band_high,
        "target_source": tg.source,
    }


def org_unit_rows(cat: Catalog, scope: Scope, level: str | None, parent) -> list[dict[str, Any]]:
    units = [u for u in cat.units.values() if cat.in_scope(u, scope)]
    if parent is not None:
        units = [u for u in units if u is parent or parent in cat.ancestors(u)]
    if level is not None:
        units = [u for u in units if u.level == LEVELS.index(level)]
    units.sort(key=lambda u: (u.level, u.code))
    return [
        {
            "code": u.code,
            "name": u.name,
            "level": u.level_name,
            "parent": cat.units[u.parent_id].code if u.parent_id else None,
            "facility_type": u.facility_type,
            "latitude": u.latitude,
            "longitude": u.longitude,
        }
        for u in units
    ]


def rows_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(ROW_FIELDS), lineterminator="\n")
    w.writeheader()
    w.writerows({**r, "quality": " ".join(r["quality"])} for r in rows)
    return buf.getvalue()
