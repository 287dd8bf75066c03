"""Point in time: the month a bronze row becomes known, and which version of a fact is current.

A row of batch `b` is known from month `b`; the first batch's history is known from the month its
source's rule gives (docs/TABLES.md, "Point in time"). Facts that change over time (the state of a
debt, a firm's latest headcount, a balance sheet) are versioned: each month shows the latest
version known by then, carried forward until a newer one is known or it grows too old.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from features.calendar import batch_month_col

_VERSION = "_version"
_VERSION_KNOWN = "_version_known"


def known_month(batch: Column, rule_month: Column, first_batch_month: dt.date) -> Column:
    """Spark column: the first month a bronze row is known (first day of that month).

    Rows of the first batch (which carries the full history) are known from `rule_month`, the
    month their source's rule gives; rows of later batches from the later of their batch month and
    `rule_month`.
    """
    batch_start = batch_month_col(batch)
    return F.when(batch_start <= F.lit(first_batch_month), rule_month).otherwise(
        F.greatest(batch_start, rule_month)
    )


def version_intervals(
    df: DataFrame,
    keys: Sequence[str],
    order_by: Sequence[str],
    known_col: str = "known_month",
    max_age_months: int | None = None,
    age_from_col: str | None = None,
) -> DataFrame:
    """The months during which each version of a fact is the current one, as intervals.

    Per `keys`, the current version at a month is the row with the highest `order_by` among the
    rows known by that month (`known_col`). Returns one row per key and month where the current
    version may change, with that version's columns, `valid_from` (its first month) and `valid_to`
    (its last month, inclusive; null while no newer version is known). With `max_age_months`, a
    version stops being current `max_age_months` months after its `age_from_col` month (default:
    the month it became known); intervals left empty are dropped.
    """
    values = [c for c in df.columns if c not in keys and c != known_col and c not in order_by]
    version = F.struct(*order_by, *values, F.col(known_col).alias(_VERSION_KNOWN))
    by_key = Window.partitionBy(*keys).orderBy(known_col)
    current = (
        # Partitioned by key once, for both the grouping and the window.
        df.repartition(*keys)
        .groupBy(*keys, known_col)
        .agg(F.max(version).alias(_VERSION))
        # A row known later may still be an older version: the current one is the best so far.
        .withColumn(_VERSION, F.max(_VERSION).over(by_key.rowsBetween(Window.unboundedPreceding, 0)))
        .withColumn("valid_to", F.add_months(F.lead(known_col).over(by_key), -1))
        .select(*keys, F.col(known_col).alias("valid_from"), "valid_to", f"{_VERSION}.*")
    )
    if max_age_months is not None:
        age_from = F.col(age_from_col or _VERSION_KNOWN)
        expiry = F.add_months(age_from, max_age_months - 1)
        current = current.withColumn("valid_to", F.least("valid_to", expiry)).filter(
            F.col("valid_from") <= F.col("valid_to")
        )
    return current.drop(_VERSION_KNOWN)
