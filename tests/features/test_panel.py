"""The whole panel on a hand-made bronze lake (features/panel.py, tests/features/bronze_rows.py)."""
import datetime as dt

import pytest

from features import catalog
from features.aggregates import headcount_history
from features.calendar import month_range
from features.panel import PanelRules, build_panel, panel_columns, refresh_start
from features.perimeter import perimeter_firms
from tests.features.bronze_rows import ACME, BETA, FIRST_MONTH, LAST_MONTH, NEWCO, bronze_frames, delivery

D = dt.date
FIRST_BATCH = D(2024, 1, 1)


@pytest.fixture(scope="module")
def panel(spark, conf):
    """The panel built on every batch (2401 to 2403)."""
    rules = PanelRules.from_conf(conf["panel"])
    bronze = bronze_frames(spark, delivery())
    history = headcount_history(bronze["headcount_company"], bronze["headcount_establishment"])
    firms = perimeter_firms(history, bronze["sirene_legal_units"], FIRST_MONTH, LAST_MONTH, rules.min_headcount,
                            rules.lookback_years, rules.excluded_legal_category_prefixes, rules.excluded_naf_divisions)
    references = {
        "departements": spark.createDataFrame([("75", "11"), ("2A", "94"), ("69", "84")],
                                               "departement string, region_code string"),
        "naf_sections": spark.createDataFrame([("C", 10, 33), ("I", 55, 56), ("J", 58, 63)],
                                              "section string, first_division int, last_division int"),
    }
    df = build_panel(bronze, history, firms, references, rules, FIRST_BATCH, FIRST_MONTH, LAST_MONTH).cache()
    yield df
    df.unpersist()


@pytest.fixture(scope="module")
def rows(panel):
    """The panel's rows by (siren, period): a few dozen rows."""
    return {(row["siren"], row["period"]): row for row in panel.collect()}


def test_every_firm_month_of_the_perimeter_with_its_profile(panel, rows, conf):
    assert panel.columns == panel_columns(tuple(conf["panel"]["horizons"]))
    assert set(catalog.feature_names()) <= set(panel.columns)
    expected_rows = 2 * len(month_range(FIRST_MONTH, LAST_MONTH)) + len(month_range(D(2023, 6, 1), LAST_MONTH))
    assert panel.count() == len(rows) == expected_rows
    assert {siren for siren, _ in rows} == {ACME, BETA, NEWCO}  # SMALL and PUBLIC are out
    beta = rows[(BETA, LAST_MONTH)]
    assert (beta["region"], beta["departement"], beta["town"], beta["naf_section"]) == ("94", "2A", "AJACCIO", "I")
    assert beta["legal_category"] == "5499" and beta["firm_age_months"] == 106
    assert rows[(ACME, D(2024, 1, 1))]["name"] == "ACME" and rows[(ACME, D(2024, 2, 1))]["name"] == "ACME SA"
    assert min(period for siren, period in rows if siren == NEWCO) == D(2023, 6, 1)  # its creation month


def test_monthly_values_follow_the_source_rules(rows):
    acme = {m: rows[(ACME, D(2024, m, 1))] for m in (1, 2, 3)}
    assert [acme[m]["debt_total"] for m in (1, 2, 3)] == [6000.0, 6000.0, 3000.0]  # paid on Feb 25: March
    assert [acme[m]["contributions_due"] for m in (1, 2, 3)] == [3000.0, 3000.0, 2800.0]  # known once due
    assert rows[(ACME, D(2023, 12, 1))]["payment_plan_count"] == 1  # 180 days from 2023-07-01
    assert acme[1]["payment_plan_count"] == 0 and acme[1]["ccsf_active"] == 1
    assert rows[(ACME, D(2021, 2, 1))]["headcount"] is None  # nothing published yet (2-month delay)
    beta = {(y, m): rows[(BETA, D(y, m, 1))] for y, m in ((2023, 11), (2023, 12), (2024, 1), (2024, 2), (2024, 3))}
    assert [beta[k]["ap_hours_authorised"] for k in sorted(beta)] == [300.0, 310.0, 310.0, 0.0, 0.0]
    assert beta[(2024, 1)]["ap_hours_used"] == 100.0
    assert [beta[k]["paydex_days"] for k in sorted(beta)][2:] == [25, 40, 45]


def test_no_future_value_leaks_into_earlier_rows(rows):
    # BETA publishes its headcount 6 months late and its June 2023 balance sheet arrives in March
    # 2024, two months after it was due. (tests/jobs/test_build_panel.py checks the general case:
    # rows built before a batch keep their values after it.)
    beta = [rows[(BETA, D(2024, m, 1))] for m in (1, 2, 3)]
    assert [(r["headcount"], r["headcount_carried"]) for r in beta] == [(12, True), (11, True), (10, True)]
    assert rows[(BETA, D(2023, 12, 1))]["headcount"] == 12  # July's value: December's is not published
    assert [r["margin_rate"] for r in beta] == [1.0, 1.0, 2.0]
    assert rows[(BETA, D(2023, 6, 1))]["margin_rate"] is None  # the 2022 sheet is published in July 2023
    assert rows[(BETA, D(2023, 7, 1))]["margin_rate"] == 1.0


def test_failure_labels_from_a_late_opening(rows):
    acme = lambda y, m: rows[(ACME, D(y, m, 1))]  # noqa: E731
    # opening effective 2024-02-27, proceedings known up to March 2024
    assert [acme(2023, m)["failure_12m"] for m in (1, 2, 3, 4)] == [0, 1, 1, None]
    assert [acme(2022, m)["failure_18m"] for m in (7, 8, 9, 10)] == [0, 1, 1, None]
    assert [acme(2024, m)["after_failure"] for m in (1, 2, 3)] == [False, True, True]
    assert rows[(BETA, D(2022, 3, 1))]["failure_24m"] == 0 and rows[(BETA, D(2022, 4, 1))]["failure_24m"] is None


def test_refresh_start_reaches_back_a_horizon_from_the_new_month_or_a_late_opening():
    first, end = D(2021, 1, 1), D(2024, 3, 1)
    assert refresh_start(None, first, end, None, 24) == first
    assert refresh_start(D(2024, 3, 1), first, end, None, 24) is None
    assert refresh_start(D(2024, 2, 1), first, end, None, 24) == D(2022, 3, 1)
    assert refresh_start(D(2024, 2, 1), first, end, D(2023, 11, 1), 24) == D(2021, 11, 1)
    assert refresh_start(D(2022, 2, 1), first, end, None, 24) == first
