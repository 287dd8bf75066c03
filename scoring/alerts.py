"""The alert policy: levels from the champion's thresholds, the regions' capacity, first alerts.
The list a regional team opens is scoring/regional_list.py's."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from features.calendar import add_months

HIGH, MODERATE, NONE = "high", "moderate", "none"


@dataclass(frozen=True)
class AlertPolicy:
    """How scores become alerts.

    `horizon`'s champion sets the levels (its `threshold_high` and `threshold_moderate` params) and
    gives the reasons; `new_high_cap` maps a region code to the most new high alerts it can take in
    a month (regions absent: no cap); an alert is a first alert when the firm had none in the
    `lookback_months` before; reasons show `max_themes` themes of up to `max_features` features.
    """

    horizon: int
    threshold_high: float
    threshold_moderate: float
    new_high_cap: Mapping[str, int]
    lookback_months: int
    max_themes: int
    max_features: int

    def __post_init__(self):
        # YAML reads an unquoted 27 as a number, and 01 or 2A would not survive that: demand text.
        wrong = [code for code in self.new_high_cap if not isinstance(code, str)]
        if wrong:
            raise ValueError(f"region codes of the new-high cap must be quoted strings, got {wrong}")


def assign_alert_level(
    df: DataFrame,
    probability_col: str,
    threshold_high: float,
    threshold_moderate: float,
    output_col: str = "alert_level",
) -> DataFrame:
    """Add `output_col`: `high` at or above `threshold_high`, else `moderate` at or above
    `threshold_moderate`, else `none` (same grain as `df`)."""
    probability = F.col(probability_col)
    level = (
        F.when(probability >= threshold_high, HIGH)
        .when(probability >= threshold_moderate, MODERATE)
        .otherwise(NONE)
    )
    return df.withColumn(output_col, level)


def cap_new_high_alerts(
    df: DataFrame,
    history: DataFrame,
    period: dt.date,
    caps: Mapping[str, int],
    probability_col: str,
    level_col: str = "alert_level",
    region_col: str = "region",
) -> DataFrame:
    """Keep at most `caps[region]` new high alerts per region in `df` (the rows of `period`).

    A new high alert is `high` in `df` and not `high` in `history` (`siren, period, alert_level`,
    earlier scores) at the month before `period`. Within a capped region the riskiest new highs (by
    `probability_col`, then SIREN) stay `high`, the others become `moderate`; they compete again
    next month. Returns `df` with `level_col` updated, same rows.
    """
    if not caps:
        return df
    previous_high = (
        history.where((F.col("period") == F.lit(add_months(period, -1))) & (F.col(level_col) == HIGH))
        .select("siren", F.lit(True).alias("_was_high"))
        .distinct()
    )
    cap = F.create_map(*[F.lit(v) for code, limit in caps.items() for v in (code, int(limit))])[F.col(region_col)]
    is_new_high = (F.col(level_col) == HIGH) & F.col("_was_high").isNull()
    rank = F.row_number().over(
        Window.partitionBy(region_col, "_new_high").orderBy(F.col(probability_col).desc(), "siren")
    )
    return (
        df.join(previous_high, "siren", "left")
        .withColumn("_new_high", is_new_high)
        .withColumn(level_col, F.when(F.col("_new_high") & (rank > cap), MODERATE).otherwise(F.col(level_col)))
        .drop("_was_high", "_new_high")
    )


def flag_first_alert(
    df: DataFrame,
    history: DataFrame,
    period: dt.date,
    lookback_months: int,
    level_col: str = "alert_level",
    output_col: str = "first_alert",
) -> DataFrame:
    """Add `output_col`: alerted (high or moderate) at `period` and alerted in none of the
    `lookback_months` months before it, according to `history` (`siren, period, alert_level`).
    Same rows as `df`."""
    recent = (
        history.where(
            F.col("period").between(F.lit(add_months(period, -lookback_months)), F.lit(add_months(period, -1)))
            & (F.col(level_col) != NONE)
        )
        .select("siren", F.lit(True).alias("_alerted_before"))
        .distinct()
    )
    return (
        df.join(recent, "siren", "left")
        .withColumn(output_col, (F.col(level_col) != NONE) & F.col("_alerted_before").isNull())
        .drop("_alerted_before")
    )
