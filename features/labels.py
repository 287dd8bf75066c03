"""The failure event and the 12/18/24-month labels: the one home of the label window."""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.calendar import month_start_col, months_between_col


def label_name(horizon: int) -> str:
    """The label column of a horizon in months: `failure_<h>m`."""
    return f"failure_{horizon}m"


def failure_dates(proceedings: DataFrame) -> DataFrame:
    """The failure event of each firm that has one: `siren, failure_date`.

    The failure is the first opening of any insolvency proceeding (liquidation, redressement,
    sauvegarde), at its effective date; closing stages are not failures.
    """
    return proceedings.filter(F.col("is_opening")).groupBy("siren").agg(F.min("effective_date").alias("failure_date"))


def add_failure_labels(
    panel: DataFrame, failures: DataFrame, horizons: Sequence[int], last_month: dt.date
) -> DataFrame:
    """`panel` (per siren and period) with `failure_date`, `after_failure` and one label per horizon.

    `failure_date` is the firm's failure, on the rows from the longest horizon before it on (what
    the labels see; so a new failure changes no row further back). `after_failure` is true from
    the failure month on (never a training row). The label of horizon h is 1 when the failure
    month is within (period, period + h months], 0 otherwise, and null when period + h months is
    past `last_month`, the last month of proceeding data.
    """
    months_to_failure = months_between_col(month_start_col(F.col("failure_date")), F.col("period"))
    labels = {
        label_name(h): F.when(F.add_months("period", h) > F.lit(last_month), F.lit(None).cast("int"))
        .when(months_to_failure.between(1, h), 1)
        .otherwise(0)
        for h in horizons
    }
    return (
        panel.join(failures, "siren", "left")
        .withColumn("after_failure", F.coalesce(months_to_failure <= 0, F.lit(False)))
        .withColumns(labels)
        .withColumn("failure_date", F.when(months_to_failure <= max(horizons), F.col("failure_date")))
    )
