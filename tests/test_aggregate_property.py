"""Property: any unit's value equals Σ numerators / Σ denominators over its facilities' raw values."""

from datetime import date

from helpers import TODAY, add_facilities, put_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.aggregate import query
from dashboard.catalog import Scope
from dashboard.periods import parse_period

FACILITIES = [
    ("P1", "USF", "0101"),
    ("P2", "PS", "0101"),
    ("P3", "CS", "0102"),
    ("P4", "USF", "0103"),
    ("P5", "HD", "0102"),
]
MONTHS = [202401, 202402, 202403, 202404, 202405, 202406]

cell = st.tuples(st.integers(0, 400), st.integers(0, 400))
data = st.dictionaries(
    st.tuples(st.sampled_from([f[0] for f in FACILITIES]), st.sampled_from(MONTHS)),
    cell,
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=data, period=st.sampled_from(["2024Q1", "2024Q2", "202401:202406", "202403", "2024"]))
def test_region_value_equals_ratio_of_raw_sums(repo, values, period):
    if not repo.catalog().unit("P1"):
        add_facilities(repo, FACILITIES)
    # Replace whatever the previous example wrote with this example's values.
    rows = []
    for f, _, _ in FACILITIES:
        for m in MONTHS:
            n, d = values.get((f, m), (0, 0))
            rows += [(f, "CPN_1_T1", m, min(n, d)), (f, "CPN_1", m, d)]
    put_values(repo, rows, received_on=date(2024, 1, 1))
    p = parse_period(period, TODAY)
    cat = repo.catalog()
    ind = cat.indicators["MNI-05"]  # applies to USF, PS and CS: the hospital must not count
    num = sum(min(n, d) for (f, m), (n, d) in values.items() if p.start <= m <= p.end and f != "P5")
    den = sum(d for (f, m), (n, d) in values.items() if p.start <= m <= p.end and f != "P5")
    for unit in ("PY-1", "PY"):
        [r] = query(repo, Scope.national(), ind, cat.unit(unit), p)
        if den == 0:
            assert r.value is None
        else:
            assert (r.numerator, r.denominator) == (num, den)
            assert abs(r.value - 100 * num / den) < 1e-9
    per_district = query(repo, Scope.national(), ind, cat.unit("PY-1"), p, by="district")
    assert sum((r.denominator or 0) for r in per_district) == den
