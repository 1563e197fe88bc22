"""The repository's read caches (Repository.sums): the same numbers as a read of the database,
within the scope, and never from before another process's import."""

import numpy as np
import pytest
from helpers import add_facilities, put_values

from dashboard.catalog import Scope
from dashboard.db import make_engine
from dashboard.repository import Repository

NATIONAL = Scope.national()
SPANS = [(202401, 202412), (202403, 202403), (202401, 202406)]  # overlapping on purpose


@pytest.fixture
def store(repo):
    # Concepción (PY-1): F1, F2; Central (PY-11): F3.
    add_facilities(repo, [("F1", "USF", "0101"), ("F2", "HD", "0102"), ("F3", "USF", "1101")])
    put_values(
        repo,
        [
            ("F1", "CONSULTAS", 202403, 10),
            ("F1", "CONSULTAS", 202410, 5),
            ("F1", "PENTA3", 202403, 7),
            ("F2", "CONSULTAS", 202403, 20),
            ("F3", "CONSULTAS", 202402, 40),
        ],
        expect=(202310, 202412),  # every facility expected every month: report masks
    )
    return repo


def ids(repo, *codes):
    cat = repo.catalog()
    return [cat.data_elements[c].id for c in codes]


def direct(repo, scope, units, codes):
    """What the database says, bypassing every cache."""
    visible = repo.catalog().filter_scope(units, scope)
    return repo._reads.sums(units, visible, None, ids(repo, *codes), SPANS)


@pytest.fixture(params=[1, 1000], ids=["every-facility-read", "own-read"])
def country_read_min(request, monkeypatch):
    """Facility reads through the read of every facility of the country, or their own."""
    from dashboard import repository

    monkeypatch.setattr(repository, "COUNTRY_READ_MIN", request.param)
    return request.param


def test_cached_facility_and_area_sums_are_the_databases(store, country_read_min):
    cat = store.catalog()
    facilities = [cat.by_code[c] for c in ("F3", "F1", "F2")]  # not in id order
    areas = [cat.by_code[c] for c in ("PY-1", "0101", "PY-11", "PY")]
    regions = [cat.by_code[c] for c in ("PY-11", "PY-1")]  # read with every region
    for units in (facilities, facilities[1:2], areas, regions, regions[1:]):
        for codes in (("CONSULTAS",), ("PENTA3", "CONSULTAS")):
            got = store.sums(NATIONAL, units, None, ids(store, *codes), SPANS)
            assert np.array_equal(got, direct(store, NATIONAL, units, codes), equal_nan=True)
            again = store.sums(NATIONAL, units, None, ids(store, *codes), SPANS)
            assert np.array_equal(again, got, equal_nan=True)  # from the cache: the same
    f = store.sums(NATIONAL, facilities, None, ids(store, "CONSULTAS"), SPANS)[:, :, 0]
    assert f[1].tolist() == [15, 10, 10]  # F1: 10 in March, 5 in October
    assert f[0, 0] == 40 and np.isnan(f[0, 1]) and f[0, 2] == 40  # F3: February only


def test_cached_sums_keep_to_the_scope(store, country_read_min):
    cat = store.catalog()
    facilities = [cat.by_code[c] for c in ("F1", "F2", "F3")]
    store.sums(NATIONAL, facilities, None, ids(store, "CONSULTAS"), SPANS)  # every row cached
    concepcion = store.sums(Scope.of("PY-1"), facilities, None, ids(store, "CONSULTAS"), SPANS)
    assert not np.isnan(concepcion[:2]).all() and np.isnan(concepcion[2]).all()
    public = Scope(frozenset({"PY"}), max_level=2)
    assert np.isnan(store.sums(public, facilities, None, ids(store, "CONSULTAS"), SPANS)).all()
    # Regions are read all at once: another region's director still gets only her own.
    regions = [cat.by_code[c] for c in ("PY-1", "PY-11")]
    store.sums(NATIONAL, regions, None, ids(store, "CONSULTAS"), SPANS)
    central = store.sums(Scope.of("PY-11"), regions, None, ids(store, "CONSULTAS"), SPANS)
    assert np.isnan(central[0]).all() and central[1, 0, 0] == 40


def test_another_processs_import_is_seen_at_once(store, country_read_min):
    """Another Repository (another worker, the CLI) writes; this one's next read has the new
    number, though its catalogue is only checked once a second."""
    cat = store.catalog()
    units = [cat.by_code[c] for c in ("F1", "F2", "F3")]
    before = store.sums(NATIONAL, units, None, ids(store, "CONSULTAS"), SPANS)
    other = Repository(make_engine(store.engine.url.render_as_string(hide_password=False)))
    put_values(other, [("F2", "CONSULTAS", 202405, 100)])
    after = store.sums(NATIONAL, units, None, ids(store, "CONSULTAS"), SPANS)
    assert after[1, 0, 0] == before[1, 0, 0] + 100
    assert np.array_equal(after, direct(store, NATIONAL, units, ("CONSULTAS",)), equal_nan=True)
    other.engine.dispose()


def test_facilities_reporting_counted_from_the_masks(store):
    # F1 (USF, 0101, PY-1) reported in 2024-03 and 2024-10, F2 (HD, 0102, PY-1) in 2024-03,
    # F3 (USF, 1101, PY-11) in 2024-02; every facility was expected to report every month.
    cat = store.catalog()
    units = [cat.by_code[c] for c in ("PY", "PY-1", "PY-11", "0101", "0102", "F1", "F3")]
    spans = [(202401, 202412), (202403, 202403), (202404, 202409), (202310, 202402)]
    got = store.facilities_reporting(NATIONAL, units, None, spans)
    count = {
        (code, b): got.get((cat.by_code[code].id, b), 0)
        for code in ("PY", "PY-1", "PY-11", "0101", "0102", "F1", "F3")
        for b in range(len(spans))
    }
    assert [count[("PY", b)] for b in range(4)] == [3, 2, 0, 1]
    assert [count[("PY-1", b)] for b in range(4)] == [2, 2, 0, 0]
    assert [count[("PY-11", b)] for b in range(4)] == [1, 0, 0, 1]
    assert [count[("0101", b)] for b in range(4)] == [1, 1, 0, 0]
    assert [count[("F1", b)] for b in range(4)] == [1, 1, 0, 0]
    assert [count[("F3", b)] for b in range(4)] == [1, 0, 0, 1]
    # A facility counts once however many months it reported (F1: March and October).
    assert got[(cat.by_code["F1"].id, 0)] == 1
    # The type filter counts only those types; an unknown type counts none.
    usf = store.facilities_reporting(NATIONAL, units, ("USF",), spans[:1])
    assert usf.get((cat.by_code["PY-1"].id, 0)) == 1 and usf.get((cat.country().id, 0)) == 2
    none = store.facilities_reporting(NATIONAL, units, ("NOPE",), spans[:1])
    assert not any(none.values())
    # Within the scope only: Concepción's director gets no count for Central.
    scoped = store.facilities_reporting(Scope.of("PY-1"), units, None, spans[:1])
    assert (cat.by_code["PY-11"].id, 0) not in scoped
    assert scoped[(cat.by_code["PY-1"].id, 0)] == 2
