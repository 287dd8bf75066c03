"""Known-from months and current versions of a fact (features/point_in_time.py)."""
import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from features.point_in_time import known_month, version_intervals

D = dt.date
FIRST_BATCH = D(2024, 1, 1)


def test_known_month_first_batch_by_rule_later_batches_not_before_their_month(spark):
    schema = "batch string, rule_month date, known date"
    expected = spark.createDataFrame(
        [
            ("2401", D(2022, 5, 1), D(2022, 5, 1)),  # first batch's history: the rule's month
            ("2401", D(2024, 2, 1), D(2024, 2, 1)),  # first batch, rule later than the batch
            ("2403", D(2022, 5, 1), D(2024, 3, 1)),  # a late delivery: known from its batch
            ("2403", D(2024, 5, 1), D(2024, 5, 1)),  # the rule's month is later
        ],
        schema,
    )
    actual = expected.drop("known").withColumn("known", known_month(F.col("batch"), F.col("rule_month"), FIRST_BATCH))
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_version_intervals_latest_known_version_wins_and_expires(spark):
    schema = ("key string, valid_from date, valid_to date, version int, value double")
    expected = spark.createDataFrame(
        [
            ("a", D(2024, 1, 1), D(2024, 2, 1), 1, 10.0),
            ("a", D(2024, 3, 1), D(2024, 4, 1), 3, 30.0),
            # version 2 became known after version 3: version 3 stays current
            ("a", D(2024, 5, 1), None, 3, 30.0),
            ("b", D(2024, 2, 1), None, 1, 5.0),
        ],
        schema,
    )
    rows = spark.createDataFrame(
        [("a", 1, 10.0, D(2024, 1, 1)), ("a", 3, 30.0, D(2024, 3, 1)), ("a", 2, 20.0, D(2024, 5, 1)),
         ("b", 1, 5.0, D(2024, 2, 1))],
        "key string, version int, value double, known_month date",
    )
    actual = version_intervals(rows, ["key"], ["version"])
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_version_intervals_max_age_counts_from_the_given_month(spark):
    rows = spark.createDataFrame(
        [("a", D(2023, 6, 1), 7.0, D(2024, 1, 1)), ("b", D(2023, 1, 1), 8.0, D(2024, 1, 1))],
        "key string, month date, value double, known_month date",
    )
    expected = spark.createDataFrame(
        # a: month June 2023 carried 12 months -> May 2024; b: expired before it was known
        [("a", D(2024, 1, 1), D(2024, 5, 1), D(2023, 6, 1), 7.0)],
        "key string, valid_from date, valid_to date, month date, value double",
    )
    actual = version_intervals(rows, ["key"], ["month"], max_age_months=12, age_from_col="month")
    assert_df_equality(actual, expected, ignore_nullable=True)
