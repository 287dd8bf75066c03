"""The simulated economy is calibrated: perimeter mix, sizes, regions, failure rate, lead times."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from features.calendar import add_months
from tests.synthetic.files import clean_records, frame, is_valid_date, parse_date, parse_period

# A delivery of 2,000 firms over four years, generated once (about ten seconds).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def firms(calibration) -> pd.DataFrame:
    return pd.read_csv(calibration.truth / "firms.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def perimeter(firms) -> pd.DataFrame:
    return firms[firms.perimeter == "true"]


def _company_headcount(raw) -> pd.DataFrame:
    """Company headcount by SIREN (rows) and month (columns, first days): the largest any batch shows."""
    rows = frame(raw, "headcount_company")
    months = rows.filter(regex="^eff").apply(lambda c: pd.to_numeric(c.str.replace(" ", ""), errors="coerce"))
    months.columns = [parse_period(name[3:]) for name in months.columns]
    return months.groupby(rows.siren).max()


def test_perimeter_mix(calibration, firms, perimeter):
    params = calibration.params
    assert len(perimeter) == params.firms
    outside = firms[firms.perimeter == "false"]
    assert len(outside) == round(params.firms * params.outside_share)
    shares = outside.perimeter_reason.value_counts(normalize=True)
    for reason, share in params.outside_mix.items():
        assert shares[reason] == pytest.approx(share, abs=0.01)
    assert outside[outside.perimeter_reason == "public_body"].legal_category.str[0].isin(["4", "7"]).all()
    assert outside[outside.perimeter_reason == "admin_education"].naf.str[:2].isin(["84", "85"]).all()
    assert outside[outside.perimeter_reason == "finance"].naf.str[:2].isin(["64", "65", "66"]).all()
    assert not perimeter.legal_category.str[0].isin(["4", "7"]).any()
    assert not perimeter.naf.str[:2].isin(["84", "85", "64", "65", "66"]).any()


def test_headcount_files_agree_with_the_perimeter(calibration, firms):
    largest = _company_headcount(calibration.raw).max(axis=1).fillna(0).to_dict()
    small = firms[(firms.perimeter_reason == "small") & (firms.large_month == "")].siren
    assert all(largest.get(s, 0) < 10 for s in small)
    # Every perimeter firm shows 10 or more employees in some month (bar the odd dirty row), from
    # its first month.
    inside = firms[firms.perimeter == "true"]
    assert sum(largest.get(s, 0) >= 10 for s in inside.siren) >= len(inside) - 3
    first = inside.created_date.map(lambda d: max(dt.date.fromisoformat(d).replace(day=1), calibration.params.start))
    assert (inside.large_month == first.map(dt.date.isoformat)).all()


def test_some_small_firms_grow_across_10_employees(calibration, firms):
    small = firms[firms.perimeter_reason == "small"]
    grown = small[small.large_month != ""]
    # About 2% a year start growing; most of those cross 10 within the four years.
    assert 0.02 <= len(grown) / len(small) <= 0.15
    assert (grown.growth_onset_month != "").all() and (grown.growth_onset_month < grown.large_month).all()
    # The files show the crossing in its month, once published (6 months of delay at most).
    headcount = _company_headcount(calibration.raw)
    published = grown[grown.large_month <= add_months(calibration.params.end, -6).isoformat()]
    assert len(published)
    crossings = [headcount.loc[s][headcount.loc[s] >= 10].index.min() for s in published.siren]
    assert crossings == [dt.date.fromisoformat(m) for m in published.large_month]


def test_sizes_and_regions_follow_public_figures(perimeter):
    size = perimeter["size"].astype(int)
    sme = size[size < 250]
    assert 23 <= sme.mean() <= 31
    assert (sme < 20).mean() == pytest.approx(0.54, abs=0.04)
    assert (sme >= 50).mean() == pytest.approx(0.14, abs=0.03)
    regions = perimeter.region.value_counts(normalize=True)
    assert regions["11"] == pytest.approx(0.21, abs=0.03)   # Île-de-France: about a fifth
    assert regions["27"] == pytest.approx(0.04, abs=0.015)  # Bourgogne-Franche-Comté
    assert perimeter.departement.nunique() >= 90


def test_failure_rate_within_the_calibrated_band(calibration, perimeter):
    failed = perimeter[perimeter.failure_month != ""]
    yearly = len(failed) / len(perimeter) / (calibration.params.months / 12)
    assert 0.02 <= yearly <= 0.05
    assert set(failed.failure_action) == {"liquidation", "redressement", "sauvegarde"}
    # Construction and hotels-restaurants fail more than their weight; public bodies never.
    risky = failed.naf.str[:2].isin(["41", "42", "43", "55", "56"]).mean()
    assert risky > perimeter.naf.str[:2].isin(["41", "42", "43", "55", "56"]).mean()


def test_failures_fall_during_support_and_catch_up(calibration, perimeter):
    months = pd.to_datetime(perimeter.failure_month[perimeter.failure_month != ""])
    before = ((months >= "2019-03-01") & (months < "2020-03-01")).sum()
    support = ((months >= "2020-03-01") & (months < "2021-03-01")).sum()
    assert support < 0.7 * before


def _new_debt_months(raw) -> dict[str, set[dt.date]]:
    """Months in which each SIREN had a new debt (operation code 1)."""
    months = defaultdict(set)
    for _, rec in clean_records(raw, "debts"):
        if rec["Cd_op_ecn"] == "1" and is_valid_date(rec["Dt_trt_ecn"], "urssaf"):
            months[rec["Siren"]].add(parse_date(rec["Dt_trt_ecn"], "urssaf").replace(day=1))
    return months


def test_debts_lead_failures_with_varied_lead_times(calibration, perimeter):
    start = calibration.params.start
    debts = _new_debt_months(calibration.raw)
    failed = perimeter[(perimeter.failure_month != "") & (perimeter.failure_month >= str(add_months(start, 14)))]
    failure = {s: dt.date.fromisoformat(m) for s, m in zip(failed.siren, failed.failure_month)}

    def debt_within(siren, end, months):
        return any(add_months(end, -months) <= m < end for m in debts.get(siren, ()))

    warned = np.mean([debt_within(s, f, 12) for s, f in failure.items()])
    rng = np.random.default_rng(0)
    healthy = perimeter[perimeter.failure_month == ""].siren.tolist()
    ends = rng.choice(list(failure.values()), len(healthy))
    baseline = np.mean([debt_within(s, e, 12) for s, e in zip(healthy, ends)])
    assert warned > 0.6 and baseline < 0.3 and warned > 2.5 * baseline
    # Lead time: months from the first new debt of the last two years to the failure.
    leads = [max((f.year - m.year) * 12 + f.month - m.month for m in debts[s] if add_months(f, -24) <= m < f)
             for s, f in failure.items() if debt_within(s, f, 24)]
    assert np.percentile(leads, 20) <= 4 and np.percentile(leads, 80) >= 10
    # Some failures come with little warning, some healthy firms have a one-off debt.
    assert warned < 0.98
    assert 0.02 < baseline


def test_some_declines_recover(calibration, perimeter):
    health = pd.read_parquet(calibration.truth / "health", columns=["siren", "regime"])
    recovered = set(health.siren[health.regime == "recovering"])
    never_failed = set(perimeter.siren[perimeter.failure_month == ""])
    assert len(recovered & never_failed) >= 0.02 * len(never_failed)


def test_partial_activity_surges_after_the_economy_wide_shock(calibration):
    requests = defaultdict(int)
    for _, rec in clean_records(calibration.raw, "ap_requests"):
        if is_valid_date(rec["DATE_STATUT"], "iso"):
            requests[dt.date.fromisoformat(rec["DATE_STATUT"]).replace(day=1)] += 1
    shock = sum(requests[dt.date(2020, m, 1)] for m in (3, 4, 5)) / 3
    others = np.mean([n for month, n in requests.items() if not dt.date(2020, 3, 1) <= month < dt.date(2020, 6, 1)])
    assert shock > 5 * others


def test_data_stops_after_liquidation(calibration, perimeter):
    liquidated = perimeter[perimeter.liquidation_month != ""].set_index("siren").liquidation_month
    assert len(liquidated)
    checks = (("paydex", "SIREN", "DATE_VALEUR", "slash", 0), ("contributions", "Siret", "periode", "period", 0),
              ("debts", "Siren", "Dt_trt_ecn", "urssaf", 1))
    for source, key, column, date_format, grace in checks:
        rows = frame(calibration.raw, source)
        rows = rows[rows[key].str[:9].isin(liquidated.index)]
        rows = rows[rows[column].map(lambda t: is_valid_date(t, date_format))]
        assert len(rows), source
        dated = rows[column].map(lambda t: parse_date(t, date_format))
        # Debts: the month of the opening still sees its debts declared to the proceeding.
        limit = rows[key].str[:9].map(liquidated).map(lambda m: add_months(dt.date.fromisoformat(m), grace))
        assert (dated < limit).all(), source
