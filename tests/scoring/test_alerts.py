"""Alert levels, the regions' cap on new high alerts, first alerts."""
import datetime as dt

import pytest
from chispa import assert_df_equality

from scoring.alerts import AlertPolicy, assign_alert_level, cap_new_high_alerts, flag_first_alert

JUNE, MAY = dt.date(2024, 6, 1), dt.date(2024, 5, 1)
HISTORY = "siren string, period date, alert_level string"


def test_levels_follow_the_thresholds_inclusive(spark):
    expected = spark.createDataFrame(
        [("1", 0.9, "high"), ("2", 0.6, "high"), ("3", 0.59, "moderate"), ("4", 0.3, "moderate"), ("5", 0.29, "none")],
        "siren string, p_18m double, alert_level string",
    )
    actual = assign_alert_level(expected.drop("alert_level"), "p_18m", threshold_high=0.6, threshold_moderate=0.3)
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_cap_keeps_the_riskiest_new_highs_of_a_capped_region(spark):
    expected = spark.createDataFrame(
        [
            ("A", "27", 0.90, "high"),      # high last month: not new, not counted
            ("B", "27", 0.80, "high"),      # moderate last month: new, second riskiest new
            ("C", "27", 0.70, "moderate"),  # high two months ago only: new, third: over the cap of 2
            ("D", "27", 0.95, "high"),      # new, riskiest
            ("E", "27", 0.50, "moderate"),
            ("F", "11", 0.61, "high"),      # region 11 has no cap
            ("G", "11", 0.62, "high"),
            ("H", "11", 0.63, "high"),
        ],
        "siren string, region string, p_18m double, alert_level string",
    )
    scored = expected.drop("alert_level").withColumnRenamed("p_18m", "p").transform(
        assign_alert_level, "p", threshold_high=0.6, threshold_moderate=0.4
    ).withColumnRenamed("p", "p_18m")
    history = spark.createDataFrame(
        [("A", MAY, "high"), ("B", MAY, "moderate"), ("C", dt.date(2024, 4, 1), "high")], HISTORY
    )
    actual = cap_new_high_alerts(scored, history, JUNE, {"27": 2}, "p_18m")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
    assert cap_new_high_alerts(scored, history, JUNE, {}, "p_18m") is scored


def test_region_codes_of_the_cap_must_be_text():
    with pytest.raises(ValueError, match="quoted"):
        AlertPolicy(18, 0.6, 0.3, {27: 5}, 12, 3, 2)


def test_first_alert_looks_back_twelve_months(spark):
    expected = spark.createDataFrame(
        [
            ("A", "high", False),     # alerted exactly 12 months before
            ("B", "moderate", True),  # last alert 13 months before
            ("C", "high", True),      # only an earlier run of this same month: not "before"
            ("D", "moderate", True),  # scored last month without an alert
            ("E", "none", False),     # not alerted now
        ],
        "siren string, alert_level string, first_alert boolean",
    )
    history = spark.createDataFrame(
        [("A", dt.date(2023, 6, 1), "moderate"), ("B", dt.date(2023, 5, 1), "high"), ("C", JUNE, "high"),
         ("D", MAY, "none"), ("E", MAY, "high")],
        HISTORY,
    )
    actual = flag_first_alert(expected.drop("first_alert"), history, JUNE, lookback_months=12)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
