"""Perimeter, month spine and the monthly profile of a firm (features/perimeter.py)."""
import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from features.aggregates import headcount_versions
from features.calendar import month_range
from features.perimeter import (
    departement_col, firm_months, head_office_monthly, headcount_spans, legal_unit_monthly, perimeter_changes,
    perimeter_spans,
)

D = dt.date
FIRST = D(2024, 1, 1)


def test_departement_of_commune_overseas_and_corsica(spark):
    expected = spark.createDataFrame([("75056", "75"), ("2A004", "2A"), ("97105", "971")], "commune string, dep string")
    actual = expected.drop("dep").withColumn("dep", departement_col(F.col("commune")))
    assert_df_equality(actual, expected, ignore_nullable=True)


def _months(siren: str, first: dt.date, last: dt.date, headcount, batch: str) -> list[tuple]:
    """Headcount rows of `siren` for every month from `first` to `last` (`headcount`: a value or month -> value)."""
    return [(siren, m, headcount(m) if callable(headcount) else headcount, batch) for m in month_range(first, last)]


def test_perimeter_is_decided_on_the_headcount_known_at_each_month(spark):
    # First batch 2401 (its latest published month gives each firm's delay), then 2402 and 2403;
    # a firm is in while some month of the last year (lookback_years=1) shows 10 or more.
    grows, shrinks, late, revised_up, revised_down, newco, late_newco, small = (f"00000000{i}" for i in range(1, 9))
    history = spark.createDataFrame(
        [
            # crosses 10 in August 2023, published two months later
            *_months(grows, D(2023, 1, 1), D(2023, 11, 1), lambda m: 11 if m >= D(2023, 8, 1) else 8, "2401"),
            # 12 when first known (from its first month), below 10 from July 2022
            *_months(shrinks, D(2022, 1, 1), D(2023, 12, 1), lambda m: 12 if m < D(2022, 7, 1) else 8, "2401"),
            # crosses 10 in March 2023, published six months later
            *_months(late, D(2023, 1, 1), D(2023, 7, 1), lambda m: 12 if m >= D(2023, 3, 1) else 9, "2401"),
            # November 2023 revised from 9 to 12 in batch 2403
            *_months(revised_up, D(2023, 1, 1), D(2023, 12, 1), 9, "2401"),
            *_months(revised_up, D(2023, 4, 1), D(2024, 2, 1), lambda m: 12 if m == D(2023, 11, 1) else 9, "2403"),
            # June 2023 at 10, revised to 9 in batch 2402
            *_months(revised_down, D(2023, 1, 1), D(2023, 12, 1), lambda m: 10 if m == D(2023, 6, 1) else 9, "2401"),
            *_months(revised_down, D(2023, 2, 1), D(2024, 1, 1), 9, "2402"),
            # created in September 2023 with 10 employees
            *_months(newco, D(2023, 9, 1), D(2023, 12, 1), 10, "2401"),
            # first delivered in batch 2402, 15 employees from December 2023
            *_months(late_newco, D(2023, 12, 1), D(2024, 1, 1), 15, "2402"),
            *_months(small, D(2023, 1, 1), D(2023, 12, 1), 5, "2401"),
        ],
        "siren string, month date, headcount int, _batch string",
    )
    versions = headcount_versions(history, FIRST, (1, 6))
    actual = headcount_spans(versions, D(2024, 3, 1), min_headcount=10, lookback_years=1)
    expected = spark.createDataFrame(
        [
            (grows, D(2023, 10, 1), None, D(2023, 10, 1)),
            (shrinks, D(2022, 1, 1), D(2023, 5, 1), D(2022, 2, 1)),  # June 2022 counts for a year
            (late, D(2023, 9, 1), None, D(2023, 9, 1)),  # not from March: unknown until September
            (revised_up, D(2024, 3, 1), None, D(2024, 3, 1)),
            (revised_down, D(2023, 7, 1), D(2024, 1, 1), D(2023, 7, 1)),  # out once the revision is known
            (newco, D(2023, 9, 1), None, D(2023, 10, 1)),  # already 10 when first known: from its creation
            (late_newco, D(2023, 12, 1), None, D(2024, 2, 1)),
        ],
        "siren string, first_period date, last_period date, known_month date",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True)


def test_perimeter_leaves_the_months_of_a_batch_before_its_own_as_they_were(spark):
    history = spark.createDataFrame(
        [*_months("000000001", D(2023, 1, 1), D(2023, 12, 1), lambda m: 11 if m >= D(2023, 8, 1) else 8, "2401"),
         *_months("000000001", D(2023, 3, 1), D(2024, 1, 1), 9, "2402")],  # the growth was a mistake
        "siren string, month date, headcount int, _batch string",
    )
    spans = lambda end: headcount_spans(headcount_versions(history, FIRST, (1, 6)), end, 10, 10)  # noqa: E731
    # Known in January 2024: in from September 2023; February's batch takes it out from then on.
    assert [tuple(r) for r in spans(D(2024, 1, 1)).collect()] == [("000000001", D(2023, 9, 1), None, D(2023, 9, 1))]
    assert [tuple(r) for r in spans(D(2024, 3, 1)).collect()] == [
        ("000000001", D(2023, 9, 1), D(2024, 1, 1), D(2023, 9, 1))]


def test_perimeter_without_public_bodies_education_or_finance(spark):
    spans = spark.createDataFrame(
        [(f"00000000{i}", D(2020, 1, 1), None, D(2020, 3, 1)) for i in range(1, 6)],
        "siren string, first_period date, last_period date, known_month date",
    )
    units = spark.createDataFrame(
        [
            ("000000001", "5710", "47.11F", "2401"),
            ("000000002", "7120", "47.11F", "2401"),  # a public body
            ("000000003", "5599", "64.19Z", "2401"),  # a bank
            ("000000004", "5599", "64.19Z", "2401"),
            ("000000004", "5599", "70.10Z", "2402"),  # no longer a bank
            # 000000005 is unknown to SIRENE: nothing excludes it
        ],
        "siren string, legal_category string, naf string, _batch string",
    )
    actual = perimeter_spans(spans, units, ["4", "7"], ["84", "85", "64", "65", "66"])
    assert sorted(r.siren for r in actual.collect()) == ["000000001", "000000004", "000000005"]


def test_perimeter_changes_before_a_batch_entry_from_the_first_month_and_exclusions(spark):
    spans = spark.createDataFrame(
        [
            ("000000001", D(2021, 1, 1), None, D(2021, 3, 1)),  # in long before: unchanged
            ("000000002", D(2023, 12, 1), None, D(2024, 2, 1)),  # first known in 2402, from its creation
            ("000000003", D(2024, 2, 1), None, D(2024, 2, 1)),  # enters from 2402's own month
            ("000000004", D(2022, 5, 1), None, D(2022, 6, 1)),  # becomes a bank in 2402
            ("000000005", D(2021, 1, 1), D(2021, 6, 1), D(2021, 2, 1)),
            ("000000005", D(2022, 9, 1), None, D(2022, 9, 1)),  # a bank no longer: both spans change
        ],
        "siren string, first_period date, last_period date, known_month date",
    )
    units = spark.createDataFrame(
        [("000000001", "5710", "47.11F", "2401"), ("000000004", "5710", "70.10Z", "2401"),
         ("000000004", "5710", "64.20Z", "2402"), ("000000005", "5710", "64.19Z", "2401"),
         ("000000005", "5710", "70.10Z", "2402")],
        "siren string, legal_category string, naf string, _batch string",
    )
    actual = perimeter_changes(spans, units, D(2024, 1, 1), ["4", "7"], ["84", "85", "64", "65", "66"])
    expected = spark.createDataFrame(
        [("000000002", D(2023, 12, 1)), ("000000004", D(2022, 5, 1)), ("000000005", D(2021, 1, 1)),
         ("000000005", D(2022, 9, 1))],
        "siren string, first_period date",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_month_spine_over_each_span(spark):
    spans = spark.createDataFrame(
        [("000000001", D(2023, 11, 1), D(2024, 1, 1), D(2023, 11, 1)),
         ("000000001", D(2024, 4, 1), None, D(2024, 4, 1))],
        "siren string, first_period date, last_period date, known_month date",
    )
    periods = [r.period for r in firm_months(spans, D(2023, 12, 1), D(2024, 5, 1)).orderBy("period").collect()]
    assert periods == [D(2023, 12, 1), D(2024, 1, 1), D(2024, 4, 1), D(2024, 5, 1)]


def test_profile_is_the_sirene_version_known_at_each_month(spark):
    units = spark.createDataFrame(
        [("000000001", "ACME", D(2001, 1, 1), "5710", "47.11F", "2401"),
         ("000000001", "ACME", D(2001, 1, 1), "5710", "56.10A", "2403")],  # new activity, March
        "siren string, name string, created_date date, legal_category string, naf string, _batch string",
    )
    establishments = spark.createDataFrame(
        [("000000001", "00000000100011", True, "75056", "PARIS", "2401"),
         ("000000001", "00000000100011", False, "75056", "PARIS", "2403"),
         ("000000001", "00000000100029", True, "2A004", "AJACCIO", "2403")],  # head office moves
        "siren string, siret string, is_head_office boolean, commune_code string, town string, _batch string",
    )
    departements = spark.createDataFrame([("75", "11"), ("2A", "94")], "departement string, region_code string")
    sections = spark.createDataFrame([("G", 45, 47), ("I", 55, 56)], "section string, first_division int, last_division int")
    start, end = D(2024, 2, 1), D(2024, 3, 1)
    units_monthly = legal_unit_monthly(units, sections, FIRST, start, end).select("siren", "period", "naf", "naf_section")
    offices = head_office_monthly(establishments, departements, FIRST, start, end)
    assert_df_equality(
        units_monthly,
        spark.createDataFrame([("000000001", D(2024, 2, 1), "47.11F", "G"), ("000000001", D(2024, 3, 1), "56.10A", "I")],
                              "siren string, period date, naf string, naf_section string"),
        ignore_row_order=True, ignore_nullable=True,
    )
    assert_df_equality(
        offices,
        spark.createDataFrame([("000000001", D(2024, 2, 1), "75", "11", "PARIS"),
                               ("000000001", D(2024, 3, 1), "2A", "94", "AJACCIO")],
                              "siren string, period date, departement string, region string, town string"),
        ignore_row_order=True, ignore_nullable=True,
    )
