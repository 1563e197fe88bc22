"""Reused results: the per-app frame cache, its bounds, and that new data is never hidden by it;
the reads' own rendering of inlined SQL literals."""

import gc
import weakref

import pytest
from helpers import TODAY, add_facilities, put_values
from sqlalchemy import create_engine

from dashboard import reads, views
from dashboard.catalog import Scope
from dashboard.filters import Filters
from dashboard.memo import CatalogLRU, settle_heap
from dashboard.periods import parse_period
from dashboard.views import Context, frame_cache, overview


def test_lru_drops_the_oldest_beyond_its_size_and_its_weight_budget():
    cache = CatalogLRU(3, budget=10, weight=len)
    cat = object()
    for k, v in (("a", "xxxx"), ("b", "xxxx"), ("c", "xx")):
        cache.put((k,), cat, v)
    assert cache.get(("a",), cat) == "xxxx"  # now the most recent
    cache.put(("d",), cat, "xxx")  # total 13 > 10: "b" (the oldest) goes
    assert cache.get(("b",), cat) is None
    assert [cache.get((k,), cat) for k in "acd"] == ["xxxx", "xx", "xxx"]
    cache.put(("e",), cat, "x" * 11)  # heavier than the whole budget: never kept
    assert cache.get(("e",), cat) is None and cache.get(("d",), cat) == "xxx"


def test_lru_entry_of_another_catalog_is_stale():
    cache = CatalogLRU(4)
    old, new = object(), object()
    cache.put(("k",), old, 1)
    assert cache.get(("k",), old) == 1
    assert cache.get(("k",), new) is None


@pytest.fixture
def store(repo):
    add_facilities(repo, [("F1", "USF", "0101"), ("F2", "USF", "0102")])
    put_values(
        repo,
        [("F1", "CPN_1_T1", 202403, 40), ("F1", "CPN_1", 202403, 80)]
        + [("F2", "CPN_1_T1", 202403, 10), ("F2", "CPN_1", 202403, 20)],
    )
    return repo


def _antenatal(ctx, region="PY-1"):
    """The numerator of the first-trimester antenatal visit card (MNI-05)."""
    ov = overview(ctx, Filters(region=region, period="202403", indicator="MNI-05"))
    return ov.cards.set_index("indicator").loc["MNI-05", "numerator"]


def test_cached_frames_are_copies_and_new_data_shows_at_once(store):
    ctx = Context(repo=store, scope=Scope.national(), today=TODAY, frames=frame_cache())
    assert _antenatal(ctx) == 50
    cat = ctx.cat
    args = ([cat.indicators["MNI-05"]], [cat.unit("PY-1")], [parse_period("202403", TODAY)])
    for _ in range(2):  # computed, then from the cache
        frame = views._evaluate(ctx, *args)
        frame.loc[:, "numerator"] = -1  # a caller changing its frame changes nobody else's
    assert views._evaluate(ctx, *args).numerator.tolist() == [50]
    assert _antenatal(ctx) == 50
    put_values(store, [("F1", "CPN_1_T1", 202403, 45)])  # an import: the data version moves
    assert _antenatal(ctx) == 55
    # Another scope is another entry, never the national one.
    other = Context(repo=store, scope=Scope.of("PY-2"), today=TODAY, frames=ctx.frames)
    assert _antenatal(other, region="PY-2") != 55


def _sql(stmt):
    return stmt.compile(dialect=create_engine("sqlite://").dialect)


def test_inlined_literals_are_written_in_and_anything_else_goes_to_sqlalchemy():
    compiled = _sql(reads._sums_statement(("M", "Q")))
    text = reads._render_literals(
        compiled,
        {"ids": [3, 1], "types": ["*", "USF"], "grain_M": "M", "periods_M": [202401]}
        | {"grain_Q": "Q", "periods_Q": []},
    )
    assert "org_unit_id IN (3, 1)" in text and "ftype IN ('*', 'USF')" in text
    assert "rollup.grain = 'M' AND rollup.period IN (202401)" in text
    assert "rollup.period IN (NULL)" in text  # an empty list matches nothing
    quoted = {"ids": [1], "types": ["x') OR ('1'='1"], "grain_M": "M", "periods_M": [1]}
    assert reads._render_literals(_sql(reads._sums_statement(("M",))), quoted) is None
    assert reads._render_literals(compiled, {"ids": [True]}) is None


def test_a_catalogue_load_calls_the_repository_hook_once_per_data_version(store):
    loads = []
    store.on_load = lambda: loads.append(1)
    store.invalidate()
    store.catalog()
    store.catalog()
    assert len(loads) == 1
    put_values(store, [("F2", "CPN_1", 202403, 25)])  # a new data version: a new catalogue
    store.catalog()
    assert len(loads) == 2


def test_settle_heap_freezes_what_is_alive_and_frees_what_is_not():
    class Node:
        pass

    def cycle():
        a, b = Node(), Node()
        a.other, b.other = b, a  # garbage only the cyclic collector frees
        return a

    try:
        kept = cycle()
        settle_heap()
        assert gc.get_freeze_count() > 0
        dropped = cycle()
        gc.freeze()  # frozen while alive ...
        gone = weakref.ref(dropped)
        del dropped
        settle_heap()  # ... and still collected once unreachable: unfreeze comes first
        assert gone() is None and kept.other.other is kept
    finally:
        gc.unfreeze()
