"""Deterministic, true-to-life demo data for Paraguay: facilities, populations, monthly reports.

Everything here is synthetic except the org-unit tree and the census populations (INE CNPV 2022).
Volumes follow population; regions differ (Chaco lower coverage, Capital/Central heavier hospital
use); dengue peaks February-April, respiratory load in winter; slow improvement over the years;
3-8 % of monthly reports missing, some late; a few gross outliers (a digit typed twice).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from . import reference
from .periods import add_months, last_complete_month
from .repository import Repository

FIRST_MONTH = 202101
CENSUS_YEAR = 2022
GROWTH = 0.012  # yearly population growth used to project the 2022 census to other years

# Facilities at scale 1 (about 1,300; 90 hospitals across the four levels).
COUNTS = {"USF": 820, "PS": 280, "CS": 110, "HD": 55, "HR": 17, "HG": 8, "HE": 10}
CHACO = {"PY-15", "PY-19", "PY-16"}
METRO = {"PY-ASU", "PY-11"}
# Dengue: yearly incidence per 100,000 (2024 was a large epidemic) and monthly shape.
DENGUE_YEAR = {2021: 120, 2022: 90, 2023: 650, 2024: 2400, 2025: 520, 2026: 300}
DENGUE_SEASON = np.array([1.6, 3.0, 3.4, 2.4, 0.9, 0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.9])
WINTER = np.array([0.95, 0.95, 1.0, 1.0, 1.05, 1.15, 1.2, 1.15, 1.05, 1.0, 0.95, 0.92])
SPECIALISED = [
    "Instituto Nacional de Cardiología",
    "Instituto Nacional del Cáncer",
    "Hospital de Trauma",
    "Hospital Materno Infantil",
    "Centro Nacional del Quemado",
    "Hospital Pediátrico",
    "Instituto Nacional de Enfermedades Respiratorias",
    "Hospital Psiquiátrico",
    "Instituto de Medicina Tropical",
    "Hospital Materno Infantil Metropolitano",
]
PHC = ("USF", "PS", "CS")
HOSP = ("HD", "HR", "HG", "HE")
BIRTHS = ("CS", "HD", "HR", "HG", "HE")


@dataclass
class DemoSummary:
    facilities: int
    values: int
    reports: int
    first_month: int
    last_month: int
    timings: dict


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().upper()


def district_populations() -> pd.DataFrame:
    """Census population per district; blanks get the region's remainder in equal shares (the
    prior that places facilities; share_remainder then shares it by their catchments)."""
    d = pd.DataFrame(reference.districts())
    r = pd.DataFrame(reference.regions()).set_index("iso_code")
    d["pop"] = pd.to_numeric(d.population_2022, errors="coerce")
    d["estimated"] = d["pop"].isna()
    for iso, grp in d.groupby("department_iso_code"):
        known = grp["pop"].sum()
        missing = grp["pop"].isna()
        if missing.any():
            rest = max(int(r.loc[iso, "population_2022"]) - known, 1500 * missing.sum())
            d.loc[grp.index[missing], "pop"] = rest / missing.sum()
    d["lat"] = pd.to_numeric(d.seat_lat, errors="coerce")
    d["lon"] = pd.to_numeric(d.seat_lon, errors="coerce")
    # Districts without a GeoNames seat: the mean of the region's known seats.
    d["approx"] = d.lat.isna()
    for iso, grp in d.groupby("department_iso_code"):
        miss = grp.lat.isna()
        if miss.any():
            lat = grp.lat.mean() if grp.lat.notna().any() else float(r.loc[iso, "capital_lat"])
            lon = grp.lon.mean() if grp.lon.notna().any() else float(r.loc[iso, "capital_lon"])
            d.loc[grp.index[miss], "lat"] = lat
            d.loc[grp.index[miss], "lon"] = lon
    return d


def share_remainder(d: pd.DataFrame, fac: pd.DataFrame) -> pd.DataFrame:
    """Districts without a census figure share their department's census total less the known
    districts in proportion to the catchments of their first-level facilities (`estimated`);
    every district without a seat is placed at the centre of its facilities (`approx`)."""
    d = d.copy()
    r = pd.DataFrame(reference.regions()).set_index("iso_code")
    catch = fac[fac.facility_type.isin(PHC)].groupby("parent").catchment_population.sum()
    weight = catch.reindex(d.district_code).fillna(0).to_numpy(dtype=float)
    d["pop"] = pd.to_numeric(d.population_2022, errors="coerce")
    for iso, grp in d.groupby("department_iso_code"):
        missing = grp.index[grp["pop"].isna()]
        if not len(missing):
            continue
        rest = float(r.loc[iso, "population_2022"]) - grp["pop"].sum()
        w = weight[missing] + 1.0
        share = np.floor(w / w.sum() * rest)
        # Whole people: the remainder of the rounding goes to the largest share.
        share[np.argmax(w)] += rest - share.sum()
        d.loc[missing, "pop"] = share
    centre = fac.groupby("parent")[["latitude", "longitude"]].mean()
    approx = d.seat_lat.isin(("", None)) | d.seat_lat.isna()
    d.loc[approx, "lat"] = centre.latitude.reindex(d.district_code[approx]).to_numpy()
    d.loc[approx, "lon"] = centre.longitude.reindex(d.district_code[approx]).to_numpy()
    return d


def department_outlines() -> dict:
    """Shapely geometry of every department by ISO code (the committed Natural Earth file)."""
    import json

    from shapely.geometry import shape

    with open(reference.DATA / "paraguay_departments.geojson", encoding="utf-8") as f:
        fc = json.load(f)
    return {ft["properties"]["iso_code"]: shape(ft["geometry"]) for ft in fc["features"]}


def keep_inside(fac: pd.DataFrame, d: pd.DataFrame) -> pd.DataFrame:
    """Pull every facility that the jitter put outside its department back inside: towards its
    district's point, else towards a point inside the department (no random draws)."""
    import shapely
    from shapely.geometry import Point

    fac = fac.copy()
    outlines = department_outlines()
    dist = d.set_index("district_code")
    for iso, grp in fac.groupby("region"):
        poly = outlines[iso]
        shapely.prepare(poly)
        lon, lat = grp.longitude.to_numpy(), grp.latitude.to_numpy()
        out = ~shapely.contains_xy(poly, lon, lat)
        inner = poly.representative_point()
        for i in np.nonzero(out)[0]:
            seat = dist.loc[grp.parent.iloc[i]]
            anchor = Point(float(seat.lon), float(seat.lat))
            if not poly.contains(anchor):
                anchor = inner
            for t in (0.5, 0.25, 0.1, 0.0):
                x = anchor.x + (lon[i] - anchor.x) * t
                y = anchor.y + (lat[i] - anchor.y) * t
                if shapely.contains_xy(poly, x, y):
                    break
            fac.loc[grp.index[i], ["longitude", "latitude"]] = (round(x, 5), round(y, 5))
    return fac


def _allocate(
    weights: np.ndarray, n: int, rng: np.random.Generator, minimum: int = 0
) -> np.ndarray:
    """Spread n items over weights (largest remainders), at least `minimum` each where possible."""
    base = np.full(len(weights), minimum if n >= minimum * len(weights) else 0)
    rest = n - base.sum()
    share = weights / weights.sum() * rest
    out = base + np.floor(share).astype(int)
    left = n - out.sum()
    order = np.argsort(-(share - np.floor(share)) + rng.random(len(weights)) * 1e-6)
    out[order[:left]] += 1
    return out


def make_facilities(rng: np.random.Generator, scale: int = 1) -> pd.DataFrame:
    d = district_populations()
    regions = pd.DataFrame(reference.regions()).set_index("iso_code")
    rows: list[dict] = []
    seq: dict[int, int] = {}

    def add(dist: pd.Series, ftype: str, name: str, spread: float) -> None:
        region_no = int(dist.health_region)
        seq[region_no] = seq.get(region_no, 0) + 1
        # Metropolitan districts are small: keep their facilities near the district seat.
        jitter = (
            spread
            * (2.5 if dist.approx else 1.0)
            * (0.35 if dist.department_iso_code in METRO else 1.0)
        )
        rows.append(
            {
                "code": f"E{region_no:02d}{seq[region_no]:04d}",
                "name": name,
                "facility_type": ftype,
                "parent": dist.district_code,
                "region": dist.department_iso_code,
                "latitude": round(float(dist.lat + rng.normal(0, jitter)), 5),
                "longitude": round(float(dist.lon + rng.normal(0, jitter)), 5),
            }
        )

    w = d["pop"].to_numpy(dtype=float)
    # Chaco and rural districts get relatively more first-level posts per inhabitant.
    rural = np.where(d.department_iso_code.isin(CHACO), 2.2, 1.0) * np.where(w < 20000, 1.6, 1.0)
    for ftype, spread, minimum in (("USF", 0.06, 1), ("PS", 0.09, 0), ("CS", 0.03, 0)):
        counts = _allocate(
            w * (rural if ftype != "CS" else 1.0), COUNTS[ftype] * scale, rng, minimum
        )
        label = {"USF": "USF", "PS": "Puesto de Salud", "CS": "Centro de Salud"}[ftype]
        for i, n in enumerate(counts):
            dist = d.iloc[i]
            for k in range(n):
                suffix = f" {k + 1}" if n > 1 else ""
                add(dist, ftype, f"{label} {dist.district_name}{suffix}", spread)
    for k in range(scale):
        tag = f" {k + 1}" if scale > 1 else ""
        # A regional hospital in each department's capital district (Asunción has none).
        for iso, reg in regions.iterrows():
            if iso == "PY-ASU":
                continue
            grp = d[d.department_iso_code == iso]
            cap = grp[grp.district.map(_ascii).str.contains(_ascii(reg.capital.split()[0]))]
            dist = (cap if len(cap) else grp.sort_values("pop")).iloc[-1]
            add(dist, "HR", f"Hospital Regional de {reg.capital}{tag}", 0.01)
        big = d.sort_values("pop", ascending=False)
        metro = big[big.department_iso_code.isin(METRO)]
        for i in range(COUNTS["HG"]):
            dist = (metro if i < 6 else big[~big.department_iso_code.isin(METRO)]).iloc[i % 6]
            add(dist, "HG", f"Hospital General de {dist.district_name}{tag}", 0.015)
        asu = d[d.department_iso_code == "PY-ASU"].iloc[0]
        for i, name in enumerate(SPECIALISED[: COUNTS["HE"]]):
            dist = asu if i < 7 else metro.iloc[1 + i % 3]
            add(dist, "HE", f"{name}{tag}", 0.02)
        hd_w = np.where(d.department_iso_code.isin(METRO), 0.3, 1.0) * np.sqrt(w)
        for i, n in enumerate(_allocate(hd_w, COUNTS["HD"], rng)):
            dist = d.iloc[i]
            for j in range(n):
                suffix = f" {j + 1}" if n > 1 else ""
                add(
                    dist,
                    "HD",
                    f"Hospital Distrital de {dist.district_name}{suffix}{tag}",
                    0.01,
                )

    f = pd.DataFrame(rows)
    n = len(f)
    t = f.facility_type
    f["beds"] = np.select(
        [t == "CS", t == "HD", t == "HR", t == "HG", t == "HE"],
        [
            rng.integers(4, 16, n),
            rng.integers(20, 61, n),
            rng.integers(80, 201, n),
            rng.integers(150, 401, n),
            rng.integers(60, 251, n),
        ],
        default=0,
    )
    f["catchment_population"] = np.select(
        [t == "USF", t == "PS", t == "CS"],
        [rng.integers(3500, 5001, n), rng.integers(1200, 3001, n), rng.integers(9000, 26001, n)],
        default=0,
    )
    # Some USF opened during the period (the network keeps growing); a few posts closed.
    opened = np.where((t == "USF") & (rng.random(n) < 0.07), rng.integers(2, 50, n), -1)
    f["opened"] = [
        date(2021, 1, 1) + timedelta(days=int(m) * 30) if m >= 0 else None for m in opened
    ]
    closed = (t == "PS") & (rng.random(n) < 0.03)
    f["closed"] = [date(2023, 6, 30) if c else None for c in closed]
    return keep_inside(f, d)


def _months(last: int) -> list[int]:
    out, m = [], FIRST_MONTH
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def build_demo(
    repo: Repository,
    *,
    seed: int = 1,
    scale: int = 1,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Build the whole demo store into an empty (or to-be-replaced) database."""
    import time

    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    today = today or date.today()
    rng = np.random.default_rng(seed)
    repo.ensure_schema()
    reference.load_reference(repo)
    say("reference tree and catalogue loaded")

    fac = make_facilities(rng, scale)
    dist = share_remainder(district_populations(), fac)
    # Districts without a known seat sit at the centre of their facilities.
    placed = {r.district_code: (r.lat, r.lon) for r in dist.itertuples() if not r.seat_lat}
    district_rows = [
        {
            **row,
            "latitude": round(placed[row["code"]][0], 5),
            "longitude": round(placed[row["code"]][1], 5),
        }
        for row in reference.tree_rows()
        if row["code"] in placed
    ]
    org_rows = district_rows + [
        {
            "code": r.code,
            "name": r.name,
            "level": 3,
            "parent": r.parent,
            "facility_type": r.facility_type,
            "latitude": r.latitude,
            "longitude": r.longitude,
            "beds": int(r.beds) or None,
            "catchment_population": int(r.catchment_population) or None,
            "opened": r.opened,
            "closed": r.closed,
        }
        for r in fac.itertuples(index=False)
    ]
    repo.upsert_org_units(org_rows)
    cat = repo.catalog()
    fac["id"] = [cat.by_code[c].id for c in fac.code]
    timings["facilities_s"] = time.perf_counter() - t0
    say(f"{len(fac):,} facilities")

    last = last_complete_month(today)
    months = np.array(_months(last))
    years = months // 100
    moy = months % 100 - 1
    n_f, n_m = len(fac), len(months)
    de = {code: d.id for code, d in cat.data_elements.items()}

    # ---- populations: census 2022 projected, per region, district and facility catchment ----
    regions = pd.DataFrame(reference.regions())
    pop_rows = []
    all_years = range(FIRST_MONTH // 100, last // 100 + 1)
    shares = {"POP_TOTAL": 1.0, "POP_LT1": 0.0185, "POP_1Y": 0.0182, "POP_EMB": 0.021}

    def add_pop(unit_id: int, total: float, estimated: bool = False) -> None:
        for y in all_years:
            base = total * (1 + GROWTH) ** (y - CENSUS_YEAR)
            for code, share in shares.items():
                pop_rows.append((unit_id, de[code], y, round(base * share), int(estimated)))

    add_pop(cat.by_code["PY"].id, float(regions.population_2022.astype(int).sum()))
    for r in regions.itertuples():
        add_pop(cat.by_code[r.iso_code].id, float(r.population_2022))
    for r in dist.itertuples():
        add_pop(cat.by_code[r.district_code].id, float(r.pop), not r.population_2022)
    for r in fac[fac.catchment_population > 0].itertuples():
        add_pop(r.id, float(r.catchment_population))

    # ---- facility × month design ----------------------------------------------------------
    region_of = fac.region.to_numpy()
    t = fac.facility_type.to_numpy()
    chaco = np.isin(region_of, list(CHACO))
    metro = np.isin(region_of, list(METRO))
    # Regional performance: a persistent offset per region, Chaco behind.
    reg_codes = sorted(set(region_of))
    reg_perf = {
        r: rng.normal(0, 0.04) - (0.18 if r in CHACO else 0) + (0.03 if r in METRO else 0)
        for r in reg_codes
    }
    perf = np.array([reg_perf[r] for r in region_of]) + rng.normal(0, 0.05, n_f)
    trend = (np.arange(n_m) / 12.0) * 0.015  # +1.5 points a year
    quality = np.clip(perf[:, None] + trend[None, :], -0.5, 0.5)  # F × M
    phc = np.isin(t, PHC)
    hosp = np.isin(t, HOSP)
    catch = fac.catchment_population.to_numpy(dtype=float)
    beds = fac.beds.to_numpy(dtype=float)
    days = np.array(
        [pd.Period(f"{m // 100}-{m % 100:02d}").days_in_month for m in months], dtype=float
    )

    # Each district's census population is shared among its first-level facilities by
    # catchment, so population-based coverage adds up at district and region level.
    reg_pop = regions.set_index("iso_code").population_2022.astype(float)
    region_pop = np.array([reg_pop[r] for r in region_of])
    district_of = fac.parent.to_numpy()
    dist_pop = dist.set_index("district_code")["pop"].astype(float)
    catch_sum = pd.Series(catch).groupby(district_of).transform("sum").to_numpy()
    pop_share = np.where(catch > 0, catch / np.where(catch_sum > 0, catch_sum, 1), 0.0)
    growth = (1 + GROWTH) ** (years - CENSUS_YEAR)
    served = pop_share * np.array([dist_pop[d] for d in district_of])
    people = served[:, None] * growth[None, :]  # F × M people served (PHC)

    def pois(lam: np.ndarray) -> np.ndarray:
        return rng.poisson(np.clip(lam, 0, None)).astype(float)

    def binom(n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
        return rng.binomial(n.astype(np.int64), np.clip(p, 0.0, 1.0)).astype(float)

    values: dict[str, np.ndarray] = {}
    mask: dict[str, np.ndarray] = {}

    def put(code: str, arr: np.ndarray, who: np.ndarray) -> None:
        values[code] = arr
        mask[code] = who

    # Maternal care at first level.
    pregn = people * shares["POP_EMB"] / 12.0
    put("CPN_1", pois(pregn * (0.85 + quality)), phc)
    put("CPN_1_T1", binom(values["CPN_1"], 0.52 + quality), phc)
    put("CPN_4", pois(pregn * (0.72 + quality)), phc)
    # Immunisation: doses against the cohorts; Chaco behind, slowly improving.
    cohort = people * shares["POP_LT1"] / 12.0
    put("PENTA1", pois(cohort * (0.9 + quality)), phc)
    put("PENTA3", binom(values["PENTA1"], 0.9 + quality / 3), phc)
    put("SPR1", pois(cohort * (0.86 + quality)), phc)
    put("SPR2", pois(cohort * (0.76 + quality)), phc)
    # Dengue: epidemic years and February-April peak, cities hit harder.
    inc = np.array([DENGUE_YEAR.get(int(y), 300) for y in years]) * DENGUE_SEASON[moy] / 12.0
    urban = np.where(metro | (region_of == "PY-10"), 1.8, np.where(chaco, 0.5, 1.0))
    put("DENGUE_CASOS", pois(people * inc[None, :] / 1e5 * urban[:, None] * 0.7), phc)
    # TB: notification about 45 per 100,000 a year, higher in Presidente Hayes and border cities.
    tb_risk = np.where(np.isin(region_of, ["PY-15", "PY-13", "PY-10", "PY-ASU"]), 2.2, 0.9)
    put("TB_NOTIF", pois(people * 45e-5 / 12 * tb_risk[:, None]), phc)
    put("TB_COHORTE", pois(people * 40e-5 / 12 * tb_risk[:, None]), phc)
    put("TB_EXITO", binom(values["TB_COHORTE"], 0.78 + quality / 2), phc)
    put("TB_MUERTES", binom(values["TB_COHORTE"] - values["TB_EXITO"], 0.35), phc)
    # NCDs (HEARTS): patients seen each month; control improves with the programme.
    put("HTA_ATEND", pois(people * 0.022), phc)
    put("HTA_CONTROL", binom(values["HTA_ATEND"], 0.42 + quality * 1.5), phc)
    put("DM_ATEND", pois(people * 0.009), phc)
    put("DM_HBA1C", binom(values["DM_ATEND"], 0.38 + quality), phc)
    put("DM_PA", binom(values["DM_ATEND"], 0.55 + quality), phc)
    put("DM40_ATEND", binom(values["DM_ATEND"], 0.8), phc)
    put("DM40_ESTATINA", binom(values["DM40_ATEND"], 0.3 + quality * 1.5), phc)
    # Outpatient visits: about 1.4 a person a year at first level, more in winter.
    visits = people * (1.4 + 2 * quality) / 12.0 * WINTER[moy][None, :]
    hosp_visits = beds[:, None] * np.where(metro, 36, 26)[:, None] * WINTER[moy][None, :]
    put("CONSULTAS", pois(np.where(phc[:, None], visits, hosp_visits)), phc | hosp)

    # Births in health centres and hospitals; the metropolitan area concentrates them.
    births_reg = pd.Series(region_pop * 0.0175 / 12.0, index=region_of).groupby(level=0).first()
    bw = np.select(
        [t == "CS", t == "HD", t == "HR", t == "HG", t == "HE"], [0.35, 1.6, 5.0, 6.0, 1.5], 0.0
    )
    bw = bw * np.where(metro & hosp, 1.5, 1.0)
    bw_sum = pd.Series(bw).groupby(region_of).transform("sum").to_numpy()
    births = (
        np.where(bw > 0, bw / np.where(bw_sum > 0, bw_sum, 1), 0)[:, None]
        * np.array([births_reg[r] for r in region_of])[:, None]
        * 0.95
        * growth[None, :]
    )
    has_births = np.isin(t, BIRTHS)
    put("PARTOS", pois(births), has_births)
    cs_rate = np.select([t == "CS", t == "HD", t == "HR"], [0.12, 0.42, 0.5], 0.6) + np.where(
        metro, 0.05, 0
    )
    put("CESAREAS", binom(values["PARTOS"], cs_rate[:, None] + trend[None, :] / 3), has_births)
    put("PARTOS_CALIF", binom(values["PARTOS"], 0.975 + quality / 10), has_births)
    put("NAC_VIVOS", binom(values["PARTOS"], 0.992), has_births)
    put("NAC_PESADOS", binom(values["NAC_VIVOS"], 0.97 + quality / 20), has_births)
    put("NAC_BPN", binom(values["NAC_PESADOS"], 0.072 - quality / 20), has_births)
    put("MUERTE_MAT", pois(values["NAC_VIVOS"] * (72e-5 - quality * 60e-5)), has_births)
    put("MUERTE_NEO", pois(values["NAC_VIVOS"] * (0.0095 - quality * 0.006)), has_births)
    put("MUERTE_U5", pois(values["NAC_VIVOS"] * (0.0145 - quality * 0.009)), has_births)

    # Hospital activity: occupancy high in the metropolitan area and in winter.
    bed_days = beds[:, None] * days[None, :]
    occ = np.clip(
        (np.where(metro, 0.86, 0.68) + rng.normal(0, 0.05, n_f))[:, None] * WINTER[moy][None, :],
        0.2,
        1.05,
    )
    alos = np.select([t == "HD", t == "HR", t == "HG", t == "HE"], [3.4, 4.6, 5.4, 7.5], 3.0) * (
        1 + rng.normal(0, 0.08, n_f)
    )
    put("CAMAS_MES", np.repeat(beds[:, None], n_m, axis=1), hosp)
    put("DIAS_CAMA", bed_days, hosp)
    put("DIAS_PACIENTE", pois(bed_days * occ), hosp)
    put("EGRESOS", pois(values["DIAS_PACIENTE"] / alos[:, None]), hosp)
    put("DIAS_ESTADA", pois(values["EGRESOS"] * alos[:, None]), hosp)
    mort = np.select(
        [t == "HD", t == "HR", t == "HG", t == "HE"], [0.018, 0.032, 0.04, 0.045], 0.02
    )
    put("MUERTES_HOSP", binom(values["EGRESOS"], mort[:, None] - trend[None, :] / 10), hosp)
    ors = np.select([t == "HD", t == "HR", t == "HG", t == "HE"], [1, 4, 7, 5], 0).astype(float)
    put("QUIROFANOS_MES", np.repeat(ors[:, None], n_m, axis=1), hosp)
    put("CIRUGIAS", pois(ors[:, None] * np.where(metro, 58, 42)[:, None] * np.ones(n_m)), hosp)
    dengue_h = pois(
        values["DENGUE_CASOS"].sum(axis=0)[None, :] * 0.4 * beds[:, None] / max(beds.sum(), 1)
    )
    values["DENGUE_CASOS"] = np.where(hosp[:, None], dengue_h, values["DENGUE_CASOS"])
    mask["DENGUE_CASOS"] = phc | hosp
    put("DENGUE_MUERTES", binom(values["DENGUE_CASOS"], np.where(hosp, 0.0016, 0.0)[:, None]), hosp)

    # ---- reporting: who was expected, who reported, when ----------------------------------
    opened_m = np.array([o.year * 100 + o.month if o else 0 for o in fac.opened])
    closed_m = np.array([c.year * 100 + c.month if c else 999999 for c in fac.closed])
    expected = (months[None, :] >= opened_m[:, None]) & (months[None, :] <= closed_m[:, None])
    p_missing = np.where(chaco, 0.075, np.where(metro, 0.03, 0.05))
    poor = rng.random(n_f) < 0.05  # a few facilities report badly month after month
    p_missing = np.where(poor, 0.25, p_missing)
    # Alto Paraguay's facilities only report regularly from 2024 (connectivity came late): the
    # SDG view then has a region with too few complete years to draw a trend.
    late_start = (region_of == "PY-16")[:, None] & (months < 202401)[None, :]
    p_month = np.where(late_start, 0.5, p_missing[:, None])
    received = expected & (rng.random((n_f, n_m)) >= p_month)
    late = rng.random((n_f, n_m)) < np.where(chaco, 0.18, 0.08)[:, None]
    deadline = np.array(
        [date(m // 100 + (m % 100 == 12), m % 100 % 12 + 1, 15) for m in months],
        dtype="datetime64[D]",
    )
    offset = np.where(late, rng.integers(1, 40, (n_f, n_m)), -rng.integers(0, 14, (n_f, n_m)))
    rec_on = deadline[None, :] + offset.astype("timedelta64[D]")
    fi, mi = np.nonzero(expected)
    reports = pd.DataFrame(
        {
            "org_unit_id": fac.id.to_numpy()[fi],
            "month": months[mi],
            "expected": 1,
            "received_on": np.where(received[fi, mi], rec_on[fi, mi], np.datetime64("NaT")),
        }
    )
    reports["received_on"] = pd.to_datetime(reports.received_on).dt.date
    reports["received_on"] = reports.received_on.astype(object).where(
        reports.received_on.notna(), None
    )

    # ---- gross outliers: a digit typed twice (×10) in about 1 value in 4,000 ---------------
    for code in ("CONSULTAS", "PENTA1", "DENGUE_CASOS", "PARTOS", "HTA_ATEND"):
        arr = values[code]
        hit = rng.random(arr.shape) < 0.00025
        arr[hit] = arr[hit] * 10 + rng.integers(1, 9, hit.sum())

    say("values generated")
    timings["generate_s"] = time.perf_counter() - t0 - timings["facilities_s"]

    # ---- write -----------------------------------------------------------------------------
    t1 = time.perf_counter()
    n_values = 0
    ids = fac.id.to_numpy()
    with repo.engine.begin() as conn:
        batch = repo.start_batch("demo", "demo", conn)
        repo.bulk_insert_populations(
            pd.DataFrame(
                pop_rows, columns=["org_unit_id", "data_element_id", "year", "value", "estimated"]
            ),
            conn,
        )
        repo.bulk_insert_reports(reports, conn)
        for code, arr in values.items():
            keep = mask[code][:, None] & received
            fi, mi = np.nonzero(keep)
            frame = pd.DataFrame(
                {
                    "org_unit_id": ids[fi],
                    "data_element_id": de[code],
                    "month": months[mi],
                    "value": arr[fi, mi],
                }
            )
            repo.bulk_insert_values(frame, batch, conn)
            n_values += len(frame)
        repo.set_meta("demo", f"seed={seed} scale={scale}", conn=conn)
        repo.set_meta("data_source", "demo", conn=conn)
    timings["write_s"] = time.perf_counter() - t1
    say(f"{n_values:,} values written")
    t2 = time.perf_counter()
    timings.update(repo.refresh_rollups())
    timings["rollup_s"] = time.perf_counter() - t2
    timings["total_s"] = time.perf_counter() - t0
    say("rollups refreshed")
    return DemoSummary(
        len(fac), n_values, int(received.sum()), int(months[0]), int(months[-1]), timings
    )
