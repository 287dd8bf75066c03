"""Per-source monthly aggregates on hand-made bronze rows (features/aggregates.py).

The first batch is 2401: its history is dated by each source's rule, later batches are known
from their own month.
"""
import datetime as dt
import random

import pytest

from chispa import assert_df_equality
from pyspark.sql import functions as F

from features import aggregates as agg
from features.catalog import BDF_RATIOS

D = dt.date
FIRST = D(2024, 1, 1)
S1, S2 = "000000001", "000000002"
A, B = S1 + "00011", S1 + "00022"


def _check(actual, expected_rows, schema, spark):
    expected = spark.createDataFrame(expected_rows, schema)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_debt_month_day_20_rule(spark):
    expected = spark.createDataFrame(
        [(D(2024, 1, 20), D(2024, 1, 1)), (D(2024, 1, 21), D(2024, 2, 1)), (D(2024, 12, 31), D(2025, 1, 1))],
        "processing_date date, month date",
    )
    actual = expected.drop("month").withColumn("month", agg.debt_month(F.col("processing_date"), 20))
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_contributions_spread_over_months_and_latest_month_per_establishment(spark):
    rows = spark.createDataFrame(
        [
            (S1, A, D(2023, 12, 1), 1, 300.0, "2401"),
            (S1, A, D(2024, 1, 1), 1, 330.0, "2402"),  # due in February: known from batch 2402
            (S1, B, D(2023, 10, 1), 3, 900.0, "2401"),  # a quarter: 300 a month
        ],
        "siren string, siret string, period_start date, period_months int, amount_due double, _batch string",
    )
    actual = agg.contributions_monthly(rows, FIRST, D(2023, 12, 1), D(2024, 3, 1), carry_months=3)
    _check(
        actual,
        [
            (S1, D(2023, 12, 1), 600.0),
            (S1, D(2024, 1, 1), 600.0),  # A's January is not known yet: December carried
            (S1, D(2024, 2, 1), 630.0),
            (S1, D(2024, 3, 1), 330.0),  # B's December share is too old (3 months)
        ],
        "siren string, period date, contributions_due double",
        spark,
    )


def test_debts_latest_state_by_day_20_rule_carried_and_summed(spark):
    rows = spark.createDataFrame(
        [
            (S1, A, "2312", "1", 1, D(2024, 1, 10), 100.0, 200.0, "2401"),
            (S1, A, "2312", "1", 2, D(2024, 2, 25), 50.0, 100.0, "2402"),  # after the 20th: March
            (S1, A, "2312", "1", 3, D(2024, 4, 5), 0.0, 0.0, "2404"),  # paid
            (S1, A, "2312", "2", 1, D(2023, 12, 21), 10.0, 20.0, "2401"),  # counts for January
            (S1, B, "2401", "1", 1, D(2024, 1, 5), 1.0, 1.0, "2403"),  # delivered late: from March
        ],
        "siren string, siret string, period_code string, debt_number string, history_number int, "
        "processing_date date, amount_employee double, amount_employer double, _batch string",
    )
    actual = agg.debts_monthly(rows, FIRST, D(2023, 12, 1), D(2024, 5, 1), cutoff_day=20)
    _check(
        actual,
        [
            (S1, D(2024, 1, 1), 110.0, 220.0),
            (S1, D(2024, 2, 1), 110.0, 220.0),
            (S1, D(2024, 3, 1), 61.0, 121.0),
            (S1, D(2024, 4, 1), 11.0, 21.0),
            (S1, D(2024, 5, 1), 11.0, 21.0),
        ],
        "siren string, period date, debt_employee double, debt_employer double",
        spark,
    )


def test_headcount_history_prefers_company_file(spark):
    company = spark.createDataFrame([(S1, D(2024, 1, 1), 12, "2401")], "siren string, period date, headcount int, _batch string")
    establishments = spark.createDataFrame(
        [(S1, D(2024, 1, 1), 5, "2401"), (S2, D(2024, 1, 1), 5, "2401"), (S2, D(2024, 1, 1), 7, "2401")],
        "siren string, period date, headcount int, _batch string",
    )
    _check(
        agg.headcount_history(company, establishments),
        [(S1, D(2024, 1, 1), 12, "2401"), (S2, D(2024, 1, 1), 12, "2401")],
        "siren string, month date, headcount bigint, _batch string",
        spark,
    )


def test_headcount_publication_delay_from_first_batch_carry_and_flag(spark):
    history = spark.createDataFrame(
        [
            # S1's latest month in the first batch is November: a 2-month publication delay
            (S1, D(2023, 10, 1), 12, "2401"),
            (S1, D(2023, 11, 1), 11, "2401"),
            (S1, D(2023, 11, 1), 15, "2403"),  # a revision of an older month
            (S1, D(2023, 12, 1), 10, "2403"),
            (S1, D(2024, 1, 1), 9, "2403"),
            # S2: December in the first batch, a 1-month delay
            (S2, D(2023, 11, 1), 20, "2401"),
            (S2, D(2023, 12, 1), 21, "2401"),
        ],
        "siren string, month date, headcount int, _batch string",
    )
    actual = agg.headcount_monthly(history, FIRST, D(2023, 12, 1), D(2024, 3, 1), delay_months=(1, 6), carry_months=3)
    _check(
        actual,
        [
            (S1, D(2023, 12, 1), 12, True),  # October, known two months later
            (S1, D(2024, 1, 1), 11, True),
            # February: November is too old (3 months) and nothing newer is known yet
            (S1, D(2024, 3, 1), 9, True),
            (S2, D(2023, 12, 1), 20, True),
            (S2, D(2024, 1, 1), 21, True),
            (S2, D(2024, 2, 1), 21, True),
        ],
        "siren string, period date, headcount int, headcount_carried boolean",
        spark,
    )


def test_ap_hours_authorised_spread_over_days_overlaps_counted_once(spark):
    rows = spark.createDataFrame(
        [
            (S1, A, D(2024, 1, 1), D(2024, 1, 31), 310.0, D(2024, 1, 3), "2401"),  # 10 h a day
            (S1, A, D(2024, 1, 21), D(2024, 2, 9), 400.0, D(2024, 1, 15), "2401"),  # 20 h a day
            (S1, B, D(2024, 2, 15), D(2024, 3, 15), 300.0, D(2024, 3, 5), "2403"),  # known in March
        ],
        "siren string, siret string, start_date date, end_date date, hours_authorised double, "
        "status_date date, _batch string",
    )
    actual = agg.ap_authorised_monthly(rows, FIRST, D(2024, 1, 1), D(2024, 3, 1))
    _check(
        actual,
        # January: 20 days x 10 + 11 days x max(10, 20); February: 9 x 20; March: 15 x 10
        [(S1, D(2024, 1, 1), 420.0), (S1, D(2024, 2, 1), 180.0), (S1, D(2024, 3, 1), 150.0)],
        "siren string, period date, ap_hours_authorised double",
        spark,
    )


def test_ap_hours_authorised_by_month_equal_a_day_by_day_count(spark):
    # Random requests over two establishments, some sharing months with or without common days,
    # some known late: the month-first computation equals counting each day by hand.
    draw = random.Random(7)
    requests = []
    for _ in range(25):
        siret = draw.choice([A, B])
        first = D(2023, 11, 1) + dt.timedelta(days=draw.randrange(150))
        last = first + dt.timedelta(days=draw.randrange(100))
        status = first + dt.timedelta(days=draw.randrange(-20, 60))
        batch = draw.choice(["2401", "2402", "2403"])
        requests.append((S1, siret, first, last, float(draw.randrange(10, 2000)), status, batch))
    start, end = D(2024, 1, 1), D(2024, 4, 1)

    def known(status: dt.date, batch: str) -> dt.date:
        month = status.replace(day=1)
        batch_month = D(2000 + int(batch[:2]), int(batch[2:]), 1)
        return month if batch_month <= FIRST else max(batch_month, month)

    by_day: dict = {}
    for _, siret, first, last, hours, status, batch in requests:
        rate, day = hours / ((last - first).days + 1), max(first, start)
        while day <= min(last, D(2024, 4, 30)):
            if known(status, batch) <= day.replace(day=1):
                by_day[siret, day] = max(by_day.get((siret, day), 0.0), rate)
            day += dt.timedelta(days=1)
    by_month: dict = {}
    for (_, day), rate in by_day.items():
        by_month[day.replace(day=1)] = by_month.get(day.replace(day=1), 0.0) + rate
    rows = spark.createDataFrame(requests, "siren string, siret string, start_date date, end_date date, "
                                           "hours_authorised double, status_date date, _batch string")
    actual = {r.period: r.ap_hours_authorised for r in agg.ap_authorised_monthly(rows, FIRST, start, end).collect()}
    assert actual == pytest.approx({month: round(hours, 2) for month, hours in by_month.items()}, abs=0.011)
    assert len(actual) == 4


def test_ap_hours_used_per_month_when_known(spark):
    rows = spark.createDataFrame(
        [(S1, D(2024, 1, 1), 100.0, "2401"), (S1, D(2024, 1, 1), 50.0, "2401"),
         (S1, D(2024, 2, 1), 70.0, "2403"), (S1, D(2024, 3, 1), 30.0, "2403")],
        "siren string, month date, hours_used double, _batch string",
    )
    _check(
        agg.ap_used_monthly(rows, FIRST, D(2024, 1, 1), D(2024, 3, 1)),
        [(S1, D(2024, 1, 1), 150.0), (S1, D(2024, 3, 1), 30.0)],
        "siren string, period date, ap_hours_used double",
        spark,
    )


def test_payment_plans_in_force_amount_and_days_left(spark):
    rows = spark.createDataFrame(
        [(S1, D(2024, 1, 10), 60, 600.0, "2401"), (S1, D(2024, 2, 15), 30, 300.0, "2402")],
        "siren string, created_date date, duration_days int, amount double, _batch string",
    )
    _check(
        agg.payment_plans_monthly(rows, FIRST, D(2024, 1, 1), D(2024, 4, 1)),
        [
            (S1, D(2024, 1, 1), 1, 600.0, 39, 390.0),  # ends March 10: 39 days after January 31
            (S1, D(2024, 2, 1), 2, 900.0, 16, 260.0),
            (S1, D(2024, 3, 1), 2, 900.0, 0, 0.0),
        ],
        "siren string, period date, payment_plan_count bigint, payment_plan_amount double, "
        "payment_plan_days_left int, payment_plan_expected_remaining double",
        spark,
    )


def test_ccsf_latest_stage_carried(spark):
    rows = spark.createDataFrame(
        [(S1, D(2023, 11, 2), "DEBUT", "2401"), (S1, D(2024, 2, 10), "APPROB", "2402")],
        "siren string, processing_date date, stage string, _batch string",
    )
    _check(
        agg.ccsf_monthly(rows, FIRST, D(2024, 1, 1), D(2024, 3, 1)),
        [(S1, D(2024, 1, 1), "DEBUT"), (S1, D(2024, 2, 1), "APPROB"), (S1, D(2024, 3, 1), "APPROB")],
        "siren string, period date, ccsf_stage string",
        spark,
    )


def test_bdf_ratios_from_publication_for_13_months(spark):
    ratio_cols = ", ".join(f"{name} double" for name in BDF_RATIOS)
    rows = spark.createDataFrame(
        [
            (S1, D(2022, 12, 31), *[1.0] * 6, "2401"),  # published July 2023, current to July 2024
            (S1, D(2023, 6, 30), *[2.0] * 6, "2403"),  # due January 2024, delivered in March
            (S2, D(2022, 3, 31), *[3.0] * 6, "2401"),  # current October 2022 to October 2023
        ],
        f"siren string, closing_date date, {ratio_cols}, _batch string",
    )
    actual = agg.bdf_monthly(rows, FIRST, D(2024, 1, 1), D(2024, 4, 1), publication_months=7, valid_months=13)
    _check(
        actual,
        [(S1, D(2024, m, 1), *[v] * 6) for m, v in ((1, 1.0), (2, 1.0), (3, 2.0), (4, 2.0))],
        f"siren string, period date, {ratio_cols}",
        spark,
    )


def test_paydex_last_value_of_month(spark):
    rows = spark.createDataFrame(
        [(S1, D(2024, 1, 5), 30, "2401"), (S1, D(2024, 1, 25), 35, "2401"), (S1, D(2024, 3, 10), 40, "2403")],
        "siren string, value_date date, days_late int, _batch string",
    )
    _check(
        agg.paydex_monthly(rows, FIRST, D(2024, 1, 1), D(2024, 5, 1), valid_months=2),
        [(S1, D(2024, 1, 1), 35), (S1, D(2024, 2, 1), 35), (S1, D(2024, 3, 1), 40), (S1, D(2024, 4, 1), 40)],
        "siren string, period date, paydex_days int",
        spark,
    )
