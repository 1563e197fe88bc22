"""The scorecard table: a page of rows at a time, headers that name their indicator, a "#" column
that says what it ranks by, area chips that keep the header's "Mostrando" line true."""

from __future__ import annotations

import gzip
import re
from urllib.parse import parse_qs, urlparse

import pytest
from helpers import TODAY

from dashboard.catalog import Scope
from dashboard.filters import Filters, from_query
from dashboard.views import Context, scorecard
from layouts import scorecard as page


@pytest.fixture(scope="module")
def ctx(demo):
    return Context(repo=demo[0], scope=Scope.national(), today=TODAY)


def _kids(node):
    """Children of a Dash component or of the wire-form dict the table's rows are built as."""
    if isinstance(node, dict):
        return node["props"].get("children")
    return getattr(node, "children", None)


def _kind(node) -> str:
    return node["type"] if isinstance(node, dict) else type(node).__name__


def prop(node, name: str):
    if isinstance(node, dict):
        return node["props"].get(name)
    if not hasattr(node, "to_plotly_json"):
        return None  # text
    return node.to_plotly_json()["props"].get(name)


def walk(node):
    yield node
    children = _kids(node)
    if isinstance(children, list | tuple):
        for c in children:
            yield from walk(c)
    elif children is not None and not isinstance(children, str | int | float):
        yield from walk(children)


def of_type(tree, name: str) -> list:
    return [n for root in tree for n in walk(root) if _kind(n) == name]


def text(node) -> str:
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    children = _kids(node)
    if isinstance(children, list | tuple):
        return "".join(text(c) for c in children)
    return text(children)


def body_rows(tree) -> list:
    return [tr for tb in of_type(tree, "Tbody") for tr in _kids(tb)]


def cells(tr) -> list:
    return _kids(tr)


def query_of(link) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(prop(link, "href")).query).items()}


def test_filters_page_number_round_trips_and_junk_is_page_one(ctx):
    cat = ctx.cat
    assert from_query("?pag=3", cat, TODAY).page == 3
    assert Filters(page=3).to_query() == "?pag=3"
    assert Filters(page=1).to_query() == ""
    for junk in ("0", "-2", "x", "2.5", "999999999"):
        assert from_query(f"?pag={junk}", cat, TODAY).page == 1, junk


def test_facility_scorecard_sends_one_page_of_rows_with_a_pager(ctx):
    f = Filters(region="PY-11", ftype="USF", period="2025", indicator="INM-03")
    sc = scorecard(ctx, f, page_rows=page.PAGE_ROWS)
    n = len(sc.rows)
    assert n > page.PAGE_ROWS  # Central's USF: more than one page
    tree = page.table(sc, ctx.cat, f, "es")
    rows = body_rows(tree)
    assert len(rows) == page.PAGE_ROWS
    names = [text(cells(tr)[1]) for tr in rows]
    assert names == [ctx.cat.by_code[c].name for c in sc.rows.org_unit[: page.PAGE_ROWS]]
    pages = -(-n // page.PAGE_ROWS)
    status = text(of_type(tree, "Nav")[0])
    assert f"Filas 1–{page.PAGE_ROWS} de {n:,}".replace(",", ".") in status
    assert f"(página 1 de {pages})" in status
    links = {text(a): a for a in of_type(tree, "Link") if "pag" in query_of(a)}
    assert query_of(links["Siguiente ›"])["pag"] == "2"
    assert query_of(links["Última »"])["pag"] == str(pages)
    assert "« Primera" not in links  # already on the first page: shown, not a link

    sc2 = scorecard(ctx, f.with_(page=2), page_rows=page.PAGE_ROWS)
    assert sc2.page == 2
    names2 = [text(cells(tr)[1]) for tr in body_rows(page.table(sc2, ctx.cat, f, "es"))]
    size = page.PAGE_ROWS
    assert names2 == [ctx.cat.by_code[c].name for c in sc.rows.org_unit[size : 2 * size]]


def test_a_page_reads_trends_for_its_own_rows_equal_to_the_whole_table(ctx):
    f = Filters(region="PY-11", ftype="USF", period="2025", page=2)
    whole = scorecard(ctx, f).rows.set_index("org_unit")
    paged = scorecard(ctx, f, page_rows=page.PAGE_ROWS).rows
    on_page = paged.iloc[page.PAGE_ROWS : 2 * page.PAGE_ROWS].set_index("org_unit")
    cols = [c for c in paged.columns if c.endswith("|trend")]
    assert len(cols) == 4
    assert (on_page[cols] == whole.loc[on_page.index, cols]).all().all()
    assert (on_page[cols] != "").any().any()  # arrows there to compare
    # Everything but the arrows is the same table in the same order.
    assert list(paged.org_unit) == list(whole.index)
    same = [c for c in whole.columns if not c.endswith("|trend")]
    assert paged.set_index("org_unit")[same].equals(whole[same])


def test_a_page_past_the_end_shows_the_last_page(ctx):
    f = Filters(region="PY-11", ftype="USF", period="2025", page=9999)
    sc = scorecard(ctx, f, page_rows=page.PAGE_ROWS)
    assert sc.page == -(-len(sc.rows) // page.PAGE_ROWS)
    rows = body_rows(page.table(sc, ctx.cat, f, "en"))
    last = len(sc.rows) % page.PAGE_ROWS or page.PAGE_ROWS
    assert len(rows) == last
    assert text(cells(rows[-1])[1]) == ctx.cat.by_code[sc.rows.org_unit.iloc[-1]].name


def test_the_print_pack_lists_every_facility_and_a_small_table_has_no_pager(ctx):
    f = Filters(region="PY-11", ftype="USF", period="2025")
    sc = scorecard(ctx, f)
    assert len(body_rows(page.table(sc, ctx.cat, f, "es"))) == len(sc.rows)
    small = Filters(region="PY-1", period="2025")
    tree = page.table(scorecard(ctx, small, page_rows=page.PAGE_ROWS), ctx.cat, small, "es")
    assert of_type(tree, "Nav") == []


def test_headers_name_the_indicator_with_its_code_and_sorting_ranks_by_it(ctx):
    f = Filters(region="PY-1", period="2025", indicator="INM-03")
    sc = scorecard(ctx, f)
    tree = page.table(sc, ctx.cat, f, "en")
    heads = {prop(th, "data-col"): th for th in of_type(tree, "Th")}
    ind = ctx.cat.indicators["INM-01"]
    assert text(heads["INM-01"]).startswith(ind.name("en") + "INM-01")
    link = of_type([heads["INM-01"]], "Link")[0]
    assert query_of(link)["orden"] == "INM-01" and query_of(link)["indicador"] == "INM-01"
    # "#" states its indicator: the chosen one, here a column of the area
    assert text(heads["rank"]).startswith("#INM-03")
    says = [p for p in of_type(tree, "P") if "score-rank-by" in (prop(p, "className") or "")]
    assert says and ctx.cat.indicators["INM-03"].name("en") in text(says[0])
    sorted_f = f.with_(sort="-INM-01")
    th = [
        t
        for t in of_type(page.table(sc, ctx.cat, sorted_f, "en"), "Th")
        if prop(t, "data-col") == "INM-01"
    ][0]
    assert prop(th, "aria-sort") == "descending"


def test_rank_column_names_the_area_first_indicator_when_the_chosen_one_is_elsewhere(ctx):
    f = Filters(region="PY-1", period="2025", indicator="INM-03", domain="MNI")
    sc = scorecard(ctx, f)
    assert sc.ranked_by is not None and sc.ranked_by.code == sc.indicators[0].code != "INM-03"


def test_area_chips_choose_an_indicator_of_that_area(ctx):
    f = Filters(region="PY-1", indicator="INM-02", sort="INM-01", page=3)
    links = page.domain_links(f, "INM", ctx.cat)
    by_domain = {query_of(a).get("dominio"): query_of(a) for a in links}
    assert by_domain["INM"].get("indicador") == "INM-02"  # already in the area: kept
    mni = by_domain["MNI"]
    assert ctx.cat.indicators[mni["indicador"]].domain == "MNI"
    assert "orden" not in mni and "pag" not in mni


def test_cells_keep_symbol_value_quality_mark_trend_and_words(ctx):
    f = Filters(region="PY-11", ftype="USF", period="2025", indicator="INM-03")
    sc = scorecard(ctx, f, page_rows=page.PAGE_ROWS)
    tree = page.table(sc, ctx.cat, f, "es")
    tds = [
        c
        for tr in body_rows(tree)
        for c in cells(tr)
        if "score-cell" in (prop(c, "className") or "")
    ]
    marked = [td for td in tds if any(prop(n, "className") == "dq-mark" for n in walk(td))]
    assert marked, "Central's USF have quality-marked values in the demo"
    td = marked[0]
    symbol, value = _kids(td)[0], _kids(td)[1]
    assert prop(symbol, "aria-hidden") == "true" and text(symbol)[0] in "✔▲✖●"
    assert re.fullmatch(r" \d{1,3}(\.\d{3})*,\d", value)  # es-PY number
    mark = next(n for n in walk(td) if prop(n, "className") == "dq-mark")
    assert prop(mark, "role") == "img" and prop(mark, "aria-label")
    # the mark names the warning; the cell title (hover) says it in full
    assert prop(mark, "aria-label").rstrip(".") in prop(td, "title")
    assert prop(td, "title").split(":")[0] in {i.name("es") for i in sc.indicators}
    # The row's name links to the facility's profile.
    link = of_type([body_rows(tree)[0]], "Link")[0]
    assert prop(link, "href").startswith("/establecimiento/E")
    # What Dash sends: plain JSON, a page of rows well under the old 5 MB.
    import json

    from dash._utils import to_json

    assert len(json.loads(to_json(tree))) == len(tree)
    wire = to_json(tree)
    # (the trend arrows' words for screen readers take ~25 KB of it, little once compressed)
    assert len(wire) < 450_000
    assert len(gzip.compress(wire.encode())) < 40_000


def test_an_area_and_an_indicator_in_the_link_always_agree(ctx):
    cat = ctx.cat
    bare = from_query("?dominio=MNI", cat, TODAY)
    assert bare.domain == "MNI" and cat.indicators[bare.indicator].domain == "MNI"
    both = from_query("?dominio=MNI&indicador=INM-02", cat, TODAY)
    assert both.indicator == "INM-02" and both.domain is None  # the indicator's area is shown
    same = from_query("?dominio=MNI&indicador=MNI-04", cat, TODAY)
    assert (same.domain, same.indicator) == ("MNI", "MNI-04")
    sc = scorecard(ctx, bare)
    assert sc.ranked_by is not None and sc.ranked_by.code == bare.indicator


def test_trend_arrows_say_better_or_worse_by_the_indicators_direction(ctx):
    from dashboard.figures import VERDICT_CLASS, change_verdict
    from dashboard.i18n import t

    f = Filters(region="PY-11", period="2025", indicator="INM-03")
    sc = scorecard(ctx, f, page_rows=page.PAGE_ROWS)
    seen = set()
    for lang in ("es", "en"):
        for tr in body_rows(page.table(sc, ctx.cat, f, lang)):
            for td in cells(tr):
                arrow = next(
                    (n for n in walk(td) if "cell-trend" in (prop(n, "className") or "")), None
                )
                if arrow is None:
                    continue
                ind = next(
                    i for i in sc.indicators if prop(td, "title").startswith(i.name(lang) + ":")
                )
                move = {"↑": "up", "↓": "down", "→": "flat"}[text(arrow).strip()]
                verdict = change_verdict(ind.direction, move)
                # the colour class by the indicator's direction, hidden from screen readers …
                assert prop(arrow, "className") == f"cell-trend {VERDICT_CLASS[verdict]}"
                assert prop(arrow, "aria-hidden") == "true"
                # … which hear the verdict in words instead, as the cell's title says too
                words = next(n for n in walk(td) if prop(n, "className") == "visually-hidden")
                assert text(words) == f" ({t('change_' + verdict, lang)})"
                assert text(words) in prop(td, "title")
                seen.add((ind.direction, verdict))
    # INM has coverages (higher is better) and the dropout rate INM-04 (lower is better)
    assert {d for d, _ in seen} >= {"up", "down"}
    assert {v for _, v in seen} >= {"better", "worse"}
