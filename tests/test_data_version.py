"""The data version: every import moves it, and each process reloads its catalog when it moved."""

from datetime import date

import pytest
from helpers import TODAY, add_facilities, put_values

from dashboard.aggregate import query
from dashboard.catalog import Scope
from dashboard.db import make_engine
from dashboard.periods import parse_period
from dashboard.repository import Repository


@pytest.fixture
def other(repo):
    """A second process's view of the same database (its own engine and catalog)."""
    r = Repository(make_engine(repo.engine.url.render_as_string(hide_password=False)), 0)
    yield r
    r.engine.dispose()


def test_data_version_second_repository_sees_imported_metadata(repo, other):
    assert other.catalog().unit("X1") is None
    add_facilities(repo, [("X1", "USF", "0101")])
    assert other.catalog().unit("X1").district_id == other.catalog().unit("0101").id
    ind = other.catalog().indicators["MNI-05"]
    repo.upsert_targets(
        [
            {
                "indicator_id": ind.id,
                "org_unit_id": None,
                "year": None,
                "target": 42.0,
                "near": None,
                "band_low": None,
                "band_high": None,
                "source": "test",
            }
        ]
    )
    assert other.catalog().has_overrides(other.catalog().indicators["MNI-05"])


def test_data_version_second_repository_sees_imported_values(repo, other):
    add_facilities(repo, [("X1", "USF", "0101")])
    cat = other.catalog()
    args = (Scope.national(), cat.indicators["MNI-05"], cat.unit("PY-1"))
    assert query(other, *args, parse_period("202403", TODAY))[0].value is None
    before = other.data_version()
    put_values(repo, [("X1", "CPN_1_T1", 202403, 5), ("X1", "CPN_1", 202403, 10)])
    assert other.data_version() != before
    assert query(other, *args, parse_period("202403", TODAY))[0].value == pytest.approx(50.0)


def test_data_version_is_checked_at_most_once_an_interval(repo):
    slow = Repository(repo.engine, version_check_s=3600)
    assert slow.catalog().unit("X1") is None
    add_facilities(repo, [("X1", "USF", "0101")])
    assert slow.catalog().unit("X1") is None, "within the interval the catalog is kept"
    slow.version_check_s = 0
    assert slow.catalog().unit("X1") is not None


def test_data_version_does_not_move_on_a_rolled_back_write(repo):
    before = repo.data_version()
    with repo.engine.connect() as conn:
        trans = conn.begin()
        repo.upsert_org_units(
            [{"code": "X2", "name": "X2", "level": 3, "parent": "0101", "facility_type": "PS"}],
            conn,
        )
        trans.rollback()
    assert repo.data_version() == before
    assert repo.catalog().unit("X2") is None


def test_data_version_moves_on_every_write_path(repo):
    seen = {repo.data_version()}
    add_facilities(repo, [("X1", "USF", "0101")], opened=date(2020, 1, 1))
    seen.add(repo.data_version())
    put_values(repo, [("X1", "CPN_1", 202403, 10)])
    seen.add(repo.data_version())
    repo.refresh_rollups()
    seen.add(repo.data_version())
    assert len(seen) == 4
