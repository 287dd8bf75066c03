"""Engineered features on the month spine: calendar lags, moving means, changes, ratios.

Windows range over a column of calendar month numbers (`month_index`, features/calendar.
month_index_col), never over row offsets: a firm with a missing month gets a null lag for it, not
the value of the wrong month. The helpers need that column in their input; ordering every window by
the same column lets Spark sort once for all of them. Every column added by `add_features` is
documented in features/catalog.py.
"""
from __future__ import annotations

from typing import Sequence

from pyspark.sql import Column, DataFrame, Window, WindowSpec
from pyspark.sql import functions as F

from features import catalog
from features.calendar import months_between_col, month_index_col
from features.perimeter import naf_division_col


MONTH_INDEX = "month_index"


def calendar_window(
    months_back: int, months_to: int = 0, key: str = "siren", month_index: str = MONTH_INDEX
) -> WindowSpec:
    """The rows of the same `key` from `months_back` to `months_to` calendar months before the row's month."""
    return Window.partitionBy(key).orderBy(month_index).rangeBetween(-months_back, -months_to)


def lag_col(column: str, months: int, key: str = "siren", month_index: str = MONTH_INDEX) -> Column:
    """Spark column: the value of `column` exactly `months` calendar months before (null if that month has no row)."""
    return F.max(column).over(calendar_window(months, months, key, month_index))


def ratio_col(numerator: Column, denominator: Column) -> Column:
    """Spark column: numerator / denominator; 0 when the numerator is 0, null when the denominator is not positive."""
    return F.when(numerator == 0, F.lit(0.0)).when(denominator > 0, numerator / denominator)


def add_lags(
    df: DataFrame, columns: Sequence[str], months: Sequence[int], name: str = "{column}_lag_{months}m",
    key: str = "siren", month_index: str = MONTH_INDEX,
) -> DataFrame:
    """`df` with each column's value `months` calendar months before, named by `name`."""
    return df.withColumns(
        {name.format(column=c, months=n): lag_col(c, n, key, month_index) for c in columns for n in months}
    )


def add_moving_means(
    df: DataFrame, columns: Sequence[str], months: Sequence[int], name: str = "{column}_mean_{months}m",
    key: str = "siren", month_index: str = MONTH_INDEX,
) -> DataFrame:
    """`df` with each column's mean over the `months` calendar months ending at the row (rows present only)."""
    return df.withColumns({
        name.format(column=c, months=n): F.avg(c).over(calendar_window(n - 1, 0, key, month_index))
        for c in columns for n in months
    })


def add_changes(
    df: DataFrame, columns: Sequence[str], months: Sequence[int], relative: bool = False,
    name: str = "{column}_change_{months}m", key: str = "siren", month_index: str = MONTH_INDEX,
) -> DataFrame:
    """`df` with each column's change since `months` calendar months before.

    The difference, or with `relative` the growth rate (value / earlier value - 1, null when the
    earlier value is not positive).
    """
    def change(column: str, n: int) -> Column:
        earlier = lag_col(column, n, key, month_index)
        if relative:
            return F.when(earlier > 0, F.col(column) / earlier - 1)
        return F.col(column) - earlier

    return df.withColumns({name.format(column=c, months=n): change(c, n) for c in columns for n in months})


def add_month_count(
    df: DataFrame, condition: Column, months: int, output: str, key: str = "siren", month_index: str = MONTH_INDEX
) -> DataFrame:
    """`df` with `output`: how many of the `months` calendar months ending at the row meet `condition`."""
    count = F.sum(condition.cast("int")).over(calendar_window(months - 1, 0, key, month_index))
    return df.withColumn(output, count.cast("int"))


def add_current_state(df: DataFrame) -> DataFrame:
    """`df` (per siren and period) with the features read off the row itself.

    Total debt, CCSF state flags, firm age and NAF division.
    """
    stage = F.col("ccsf_stage")
    return df.withColumns({
        "debt_total": F.col("debt_employee") + F.col("debt_employer"),
        "ccsf_active": F.coalesce(stage.isin(*catalog.CCSF_ACTIVE_STAGES), F.lit(False)).cast("int"),
        "ccsf_refused": F.coalesce(stage.isin(*catalog.CCSF_REFUSED_STAGES), F.lit(False)).cast("int"),
        "firm_age_months": months_between_col(F.col("period"), F.col("created_date")),
        "naf_division": naf_division_col(F.col("naf")),
    })


def add_ratios(df: DataFrame) -> DataFrame:
    """`df` with the debt, partial-activity and payment-plan ratios of the row (needs contributions_mean_12m)."""
    debt = F.col("debt_total")
    headcount = F.col("headcount")
    return df.withColumns({
        "debt_over_contributions": ratio_col(debt, F.col("contributions_mean_12m")),
        "debt_per_employee": ratio_col(debt, headcount),
        "ap_authorised_per_employee": ratio_col(F.col("ap_hours_authorised"), headcount),
        "ap_used_per_employee": ratio_col(F.col("ap_hours_used"), headcount),
        "payment_plan_deviation": F.when(
            F.col("payment_plan_amount") > 0,
            (debt - F.col("payment_plan_expected_remaining")) / F.col("payment_plan_amount"),
        ).otherwise(F.lit(0.0)),
    })


def add_features(panel: DataFrame) -> DataFrame:
    """`panel` (per siren and period, on a complete month spine) with every feature of the catalogue.

    Needs the monthly aggregates (debts, contributions, headcount, partial activity, payment plans,
    CCSF stage, Banque de France ratios, paydex) and the profile (`created_date`, `naf`).
    """
    return (
        panel.withColumn(MONTH_INDEX, month_index_col(F.col("period")))
        .transform(add_current_state)
        .transform(add_moving_means, ["contributions_due"], [12], name="contributions_mean_{months}m")
        .transform(add_moving_means, ["debt_employee", "debt_employer"], catalog.MEANS)
        .transform(add_ratios)
        .transform(add_lags, ["debt_total", "debt_over_contributions"], catalog.LAGS)
        .transform(add_lags, catalog.BDF_RATIOS, [12], name="{column}_prev_year")
        .transform(add_changes, ["debt_total"], catalog.DEBT_CHANGES)
        .transform(add_changes, ["debt_per_employee"], [3])
        .transform(add_changes, ["paydex_days"], [12])
        .transform(add_changes, ["headcount"], catalog.HEADCOUNT_CHANGES, relative=True)
        .transform(add_changes, ["contributions_due"], [12], relative=True, name="contributions_change_{months}m")
        .transform(add_month_count, F.col("debt_total") > 0, 12, "debt_months_12m")
        .transform(add_month_count, F.col("ap_hours_used") > 0, 12, "ap_used_months_12m")
        .drop(MONTH_INDEX)
    )
