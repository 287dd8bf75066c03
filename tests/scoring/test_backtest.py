"""What a back-test measures, on a handful of back-tested scores: lead times, precision, new alerts."""
import datetime as dt

import pytest
from chispa import assert_df_equality

from scoring.backtest import (
    high_alert_precision, lead_summary, lead_times, measured_failures, new_high_alerts,
)


def m(text):
    return dt.date.fromisoformat(f"{text}-01")


def test_a_failure_is_measured_when_the_months_before_it_were_back_tested(spark):
    panel = spark.createDataFrame([
        ("A", m("2023-01"), dt.date(2023, 1, 15)), ("A", m("2022-12"), dt.date(2023, 1, 15)),  # one row per firm
        ("B", m("2022-12"), dt.date(2022, 12, 3)),   # 11 months back-tested before it: too few
        ("C", m("2023-01"), dt.date(2023, 2, 1)),    # the month after the last back-tested one: measured
        ("D", m("2023-01"), dt.date(2023, 3, 1)),    # later: its last month before it is not back-tested
        ("E", m("2023-01"), None),
    ], "siren string, period date, failure_date date")
    expected = spark.createDataFrame([("A", m("2023-01")), ("C", m("2023-02"))], "siren string, failure_period date")
    assert_df_equality(measured_failures(panel, m("2022-01"), m("2023-01"), 12), expected, ignore_row_order=True,
                       ignore_nullable=True)


def test_lead_times_count_months_from_the_first_alert_within_the_window(spark):
    scores = spark.createDataFrame([
        ("A", m("2021-01"), "high"),      # beyond the 24-month window: no warning of this failure
        ("A", m("2022-06"), "moderate"), ("A", m("2022-09"), "high"), ("A", m("2022-10"), "none"),
        ("A", m("2023-03"), "high"),      # at the failure month: not a warning
        ("B", m("2022-12"), "none"),
        ("C", m("2023-01"), "moderate"),
    ], "siren string, period date, alert_level string")
    failures = spark.createDataFrame([("A", m("2023-03")), ("B", m("2023-02")), ("C", m("2023-02"))],
                                     "siren string, failure_period date")
    expected = spark.createDataFrame([("A", m("2023-03"), 6, 9), ("B", m("2023-02"), None, None),
                                      ("C", m("2023-02"), None, 1)],
                                     "siren string, failure_period date, lead_high int, lead_any int")
    assert_df_equality(lead_times(scores, failures, 24), expected, ignore_row_order=True, ignore_nullable=True)


def test_lead_summary_counts_a_failure_without_warning_at_zero_months():
    leads = [{"lead_high": 6, "lead_any": 9}, {"lead_high": None, "lead_any": None},
             {"lead_high": float("nan"), "lead_any": 1}, {"lead_high": 2, "lead_any": 12}]
    summary = lead_summary(leads, 6)
    assert summary["failures_measured"] == 4
    assert summary["lead_high_months_p50"] == 1.0  # 0, 0, 2, 6
    assert summary["lead_any_months_p25"] == 0.75 and summary["lead_any_months_p75"] == pytest.approx(9.75)
    assert summary["lead_high_share_6m_ahead"] == 0.25 and summary["lead_any_share_6m_ahead"] == 0.5
    assert lead_summary([], 6)["failures_measured"] == 0


def test_precision_counts_high_alerts_whose_horizon_is_observed(spark):
    scores = spark.createDataFrame([
        ("A", m("2022-01"), "high"), ("B", m("2022-01"), "high"), ("C", m("2022-01"), "moderate"),
        ("D", m("2022-01"), "high"),  # its 18 months are not observed yet
        ("A", m("2022-02"), "high"),
    ], "siren string, period date, alert_level string")
    panel = spark.createDataFrame([
        ("A", m("2022-01"), 1), ("B", m("2022-01"), 0), ("C", m("2022-01"), 1), ("D", m("2022-01"), None),
        ("A", m("2022-02"), 1),
    ], "siren string, period date, failure_18m int")
    expected = spark.createDataFrame([(m("2022-01"), 2, 0.5), (m("2022-02"), 1, 1.0)],
                                     "period date, high_alerts_observed long, precision_high double")
    assert_df_equality(high_alert_precision(scores, panel, "failure_18m"), expected, ignore_row_order=True,
                       ignore_nullable=True)


def test_a_high_alert_is_new_when_the_firm_was_not_high_the_month_before(spark):
    scores = spark.createDataFrame([
        ("A", m("2022-01"), "27", "high"), ("A", m("2022-02"), "27", "high"),       # new, then not
        ("B", m("2022-01"), "27", "moderate"), ("B", m("2022-02"), "27", "high"),   # new in February
        ("C", m("2022-01"), "11", "high"), ("C", m("2022-03"), "11", "high"),       # a gap: new again
    ], "siren string, period date, region string, alert_level string")
    expected = spark.createDataFrame([(m("2022-01"), "27", 1), (m("2022-01"), "11", 1), (m("2022-02"), "27", 1),
                                      (m("2022-03"), "11", 1)], "period date, region string, new_high_alerts long")
    assert_df_equality(new_high_alerts(scores), expected, ignore_row_order=True, ignore_nullable=True)
