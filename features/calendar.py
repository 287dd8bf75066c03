"""Months and batches: the one home of the `YYMM` batch naming and of month arithmetic.

A batch `YYMM` holds what became known during that month; its month is the first day of it.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def batch_name(month: dt.date) -> str:
    """The batch folder name `YYMM` of a month (any day of it)."""
    return f"{month.year % 100:02d}{month.month:02d}"


def batch_month(batch: str) -> dt.date:
    """The first day of the month of batch `YYMM` (years 2000-2099)."""
    if len(batch) != 4 or not batch.isdigit() or not 1 <= int(batch[2:]) <= 12:
        raise ValueError(f"not a batch name (YYMM): {batch!r}")
    return dt.date(2000 + int(batch[:2]), int(batch[2:]), 1)


def batch_month_col(batch: Column) -> Column:
    """Spark column: the first day of the month of a `YYMM` batch column."""
    return F.to_date(F.concat(F.lit("20"), batch, F.lit("01")), "yyyyMMdd")


def add_months(month: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or before, if negative) `month`'s month."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every first-of-month from `first`'s month to `last`'s month, inclusive."""
    months, current = [], dt.date(first.year, first.month, 1)
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def parse_year_month(text: str) -> dt.date:
    """`YYYY-MM` (as given on the command line) to the first day of that month."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return dt.date(year, month, 1)
    except ValueError as error:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}") from error


def month_start_col(date: Column) -> Column:
    """Spark column: the first day of the month of a date column."""
    return F.trunc(date, "month")


def month_index_col(month: Column) -> Column:
    """Spark column: a month as a count of months (year * 12 + month - 1).

    Consecutive calendar months differ by exactly 1, so a window ranging over this index spans
    calendar months, whatever rows are missing.
    """
    return F.year(month) * 12 + F.month(month) - 1


def months_between_col(later: Column, earlier: Column) -> Column:
    """Spark column: whole calendar months from `earlier`'s month to `later`'s month."""
    return month_index_col(later) - month_index_col(earlier)


def explode_months(
    df: DataFrame,
    first_col: str,
    last_col: str,
    start: dt.date,
    end: dt.date,
    period_col: str = "period",
) -> DataFrame:
    """One row per month of each row's interval [`first_col`, `last_col`] clipped to [`start`, `end`].

    Both interval columns are first days of months; a null `last_col` means open-ended (up to
    `end`). The interval columns are replaced by `period_col`; rows whose clipped interval is empty
    are dropped.
    """
    first = F.greatest(F.col(first_col), F.lit(start))
    last = F.least(F.col(last_col), F.lit(end))  # least() skips nulls: open-ended stops at `end`
    return (
        df.filter(first <= last)
        .withColumn(period_col, F.explode(F.sequence(first, last, F.expr("INTERVAL 1 MONTH"))))
        .drop(first_col, last_col)
    )
