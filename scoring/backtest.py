"""What a back-test measures: how many months ahead the alerts came before the failures, how often
a high alert was followed by a failure, and how many new high alerts each region received.

Every function takes back-tested scores (the columns of `lake/scores`, docs/TABLES.md) and panel
columns; scoring the months and logging the report is the job's (jobs/backtest.py).
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping, Sequence

import numpy as np
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from features.calendar import add_months, month_start_col, months_between_col
from scoring.alerts import HIGH, NONE

LEAD_COLUMNS = ("lead_high", "lead_any")


def measured_failures(panel: DataFrame, first: dt.date, last: dt.date, months_before: int) -> DataFrame:
    """The failures a back-test of `first`..`last` can measure: one row per firm whose failure
    month has `months_before` back-tested months before it (it falls in first + months_before ..
    last + 1). Columns: siren, failure_period."""
    return (
        panel.where(F.col("failure_date").isNotNull())
        .select("siren", month_start_col(F.col("failure_date")).alias("failure_period"))
        .distinct()
        .where(F.col("failure_period").between(F.lit(add_months(first, months_before)), F.lit(add_months(last, 1))))
    )


def lead_times(scores: DataFrame, failures: DataFrame, window_months: int) -> DataFrame:
    """Per measured failure, the months of warning: from the first high alert (`lead_high`) and the
    first alert of any level (`lead_any`) in the `window_months` months before the failure month,
    to that month; null when no alert came in that window. Columns: siren, failure_period,
    lead_high, lead_any."""
    before = scores.join(failures, "siren").where(
        (F.col("period") < F.col("failure_period"))
        & (F.col("period") >= F.add_months(F.col("failure_period"), -window_months))
    )
    first = before.groupBy("siren", "failure_period").agg(
        F.min(F.when(F.col("alert_level") == HIGH, F.col("period"))).alias("_first_high"),
        F.min(F.when(F.col("alert_level") != NONE, F.col("period"))).alias("_first_any"),
    )
    return failures.join(first, ["siren", "failure_period"], "left").select(
        "siren", "failure_period",
        *[months_between_col(F.col("failure_period"), F.col(c)).alias(lead)
          for c, lead in (("_first_high", "lead_high"), ("_first_any", "lead_any"))],
    )


def lead_summary(leads: Sequence[Mapping[str, int]], ahead_months: int) -> dict[str, float]:
    """Quartiles of each lead (LEAD_COLUMNS) over collected lead_times rows, a failure never alerted
    counted at 0 months (it had no warning), and the share of failures alerted `ahead_months` or
    more months ahead."""
    summary: dict[str, float] = {"failures_measured": float(len(leads))}
    for column in LEAD_COLUMNS:
        values = [0 if _missing(row[column]) else int(row[column]) for row in leads]
        for name, q in (("p25", 0.25), ("p50", 0.5), ("p75", 0.75)):
            summary[f"{column}_months_{name}"] = float(np.quantile(values, q)) if values else float("nan")
        summary[f"{column}_share_{ahead_months}m_ahead"] = (
            sum(v >= ahead_months for v in values) / len(values) if values else float("nan")
        )
    return summary


def _missing(value) -> bool:
    return value is None or value != value  # None from Spark, NaN from pandas


def high_alert_precision(scores: DataFrame, panel: DataFrame, label_col: str) -> DataFrame:
    """Per month, the high alerts whose `label_col` (failure within the horizon) is observed, and
    the share of them followed by a failure. Columns: period, high_alerts_observed, precision_high."""
    labels = panel.select("siren", "period", label_col)
    return (
        scores.where(F.col("alert_level") == HIGH)
        .join(labels, ["siren", "period"])
        .where(F.col(label_col).isNotNull())
        .groupBy("period")
        .agg(F.count(F.lit(1)).alias("high_alerts_observed"), F.avg(F.col(label_col).cast("double")).alias("precision_high"))
    )


def new_high_alerts(scores: DataFrame) -> DataFrame:
    """Per month and region, the firms on high alert that were not the month before (the cap's
    sense of a new high alert; the back-test's first month counts every high alert as new).
    Columns: period, region, new_high_alerts."""
    by_firm = Window.partitionBy("siren").orderBy("period")
    previous, previous_period = F.lag("alert_level").over(by_firm), F.lag("period").over(by_firm)
    was_high = (previous == HIGH) & (previous_period == F.add_months(F.col("period"), -1))
    return (
        scores.select("siren", "period", "region", "alert_level", F.coalesce(was_high, F.lit(False)).alias("_was_high"))
        .where((F.col("alert_level") == HIGH) & ~F.col("_was_high"))
        .groupBy("period", "region")
        .agg(F.count(F.lit(1)).alias("new_high_alerts"))
    )
