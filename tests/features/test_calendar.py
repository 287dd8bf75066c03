"""Month arithmetic on Spark columns and month intervals (features/calendar.py)."""
import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from features.calendar import explode_months, month_index_col, months_between_col

D = dt.date


def test_month_index_and_months_between_count_calendar_months(spark):
    expected = spark.createDataFrame(
        [(D(2023, 12, 15), D(2024, 1, 1), 24287, -1), (D(2024, 3, 1), D(2022, 3, 31), 24290, 24)],
        "a date, b date, index int, months int",
    )
    actual = expected.drop("index", "months").withColumns(
        {"index": month_index_col(F.col("a")), "months": months_between_col(F.col("a"), F.col("b"))}
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_explode_months_clips_to_bounds_and_open_ends_at_end(spark):
    rows = spark.createDataFrame(
        [("a", D(2023, 11, 1), D(2024, 2, 1)), ("b", D(2024, 3, 1), None), ("c", D(2023, 1, 1), D(2023, 6, 1))],
        "key string, first date, last date",
    )
    expected = spark.createDataFrame(
        [("a", D(2024, 1, 1)), ("a", D(2024, 2, 1)), ("b", D(2024, 3, 1)), ("b", D(2024, 4, 1))],
        "key string, period date",
    )
    actual = explode_months(rows, "first", "last", D(2024, 1, 1), D(2024, 4, 1))
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
