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
    for units in (facilities, facilities[1:2], areas):
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
