"""The out-of-time split: windows with the horizon's gap, one split per SIREN, labelled live rows only."""
import datetime as dt

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from features.calendar import add_months
from tests.training.tiny_panel import tiny_panel
from training.dataset import (
    SplitWindows,
    add_class_weight,
    assign_split,
    check_split_counts,
    downsample_negatives,
    labelled_live_rows,
    labelled_periods,
    positive_weight,
    siren_group,
    split_counts,
    split_windows,
)

D = dt.date


@pytest.mark.parametrize(
    "horizon, last, expected",
    [
        # A panel 2016-01..2023-12: labels up to 2022-12 at 12 months, 2021-12 at 24.
        (12, D(2022, 12, 1), (D(2020, 12, 1), D(2022, 1, 1), D(2022, 6, 1), D(2022, 7, 1))),
        (18, D(2022, 6, 1), (D(2019, 12, 1), D(2021, 7, 1), D(2021, 12, 1), D(2022, 1, 1))),
        (24, D(2021, 12, 1), (D(2018, 12, 1), D(2021, 1, 1), D(2021, 6, 1), D(2021, 7, 1))),
    ],
)
def test_split_windows_leave_the_horizon_as_gap(horizon, last, expected):
    windows = split_windows(D(2016, 1, 1), last, horizon, test_months=6, valid_months=6, lookback_months=24)
    assert windows.train_start == D(2018, 1, 1)
    assert (windows.train_end, windows.valid_start, windows.valid_end, windows.test_start) == expected
    assert windows.test_end == last
    # The last training row's label window (p, p + h] ends before validation and test begin.
    assert add_months(windows.train_end, horizon) < windows.valid_start < windows.test_start


def test_split_windows_refuse_a_panel_too_short_for_the_lookback():
    # 2018-01..2021-12 at 24 months: training would have to end in 2018-12, before its first
    # period with 24 months of history (2020-01).
    with pytest.raises(ValueError, match=r"horizon 24m: no training period.*2020-01-01.*2018-12-01"):
        split_windows(D(2018, 1, 1), D(2021, 12, 1), 24, 6, 6, lookback_months=24)
    assert split_windows(D(2018, 1, 1), D(2021, 12, 1), 24, 6, 6).train_start == D(2018, 1, 1)


def test_labelled_live_rows_drop_unlabelled_and_failed_rows(spark):
    schema = "siren string, period date, after_failure boolean, failure_12m int"
    panel = spark.createDataFrame(
        [
            ("000000001", D(2020, 1, 1), False, 0),
            ("000000001", D(2020, 2, 1), False, None),  # horizon not observed yet
            ("000000002", D(2020, 1, 1), False, 1),
            ("000000002", D(2020, 2, 1), True, 0),  # at its failure: never a training row
        ],
        schema,
    )
    expected = spark.createDataFrame(
        [("000000001", D(2020, 1, 1), False, 0), ("000000002", D(2020, 1, 1), False, 1)], schema
    )
    assert_df_equality(labelled_live_rows(panel, "failure_12m"), expected)


def test_siren_group_is_stable_salted_and_close_to_its_shares(spark):
    sirens = spark.range(4000).select(F.lpad(F.col("id").cast("string"), 9, "0").alias("siren"))
    groups = sirens.select("siren", siren_group(F.col("siren"), "salt-a", 0.2, 0.3).alias("group"))
    shares = {r["group"]: r["count"] / 4000 for r in groups.groupBy("group").count().collect()}
    assert shares["test"] == pytest.approx(0.3, abs=0.03)
    assert shares["valid"] == pytest.approx(0.2, abs=0.03)
    again = sirens.select("siren", siren_group(F.col("siren"), "salt-a", 0.2, 0.3).alias("group"))
    assert groups.exceptAll(again).count() == 0
    other_salt = sirens.select("siren", siren_group(F.col("siren"), "salt-b", 0.2, 0.3).alias("group"))
    assert groups.exceptAll(other_salt).count() > 1000


def _one_siren_per_group(spark, salt, valid_share, test_share):
    sirens = spark.range(1, 60).select(F.lpad(F.col("id").cast("string"), 9, "0").alias("siren"))
    rows = sirens.select("siren", siren_group(F.col("siren"), salt, valid_share, test_share).alias("g")).collect()
    return {group: min(r["siren"] for r in rows if r["g"] == group) for group in ("train", "valid", "test")}


def test_assign_split_keeps_each_firm_in_its_group_window(spark):
    salt, valid_share, test_share = "split-test", 0.3, 0.3
    siren = _one_siren_per_group(spark, salt, valid_share, test_share)
    windows = SplitWindows(
        horizon=2, train_start=D(2020, 2, 1), train_end=D(2020, 3, 1), valid_start=D(2020, 6, 1), valid_end=D(2020, 7, 1),
        test_start=D(2020, 8, 1), test_end=D(2020, 9, 1),
    )
    months = [D(2020, m, 1) for m in range(1, 11)]
    rows = spark.createDataFrame([(s, m) for s in siren.values() for m in months], "siren string, period date")

    expected = spark.createDataFrame(
        [(siren["train"], D(2020, m, 1), "train") for m in (2, 3)]
        + [(siren["valid"], D(2020, m, 1), "valid") for m in (6, 7)]
        + [(siren["test"], D(2020, m, 1), "test") for m in (8, 9)],
        "siren string, period date, split string",
    )
    actual = assign_split(rows, windows, salt, valid_share, test_share)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_split_of_a_panel_shares_no_siren_and_respects_the_gap(spark):
    rows = labelled_live_rows(tiny_panel(spark, firms=120), "failure_12m")
    first, last = labelled_periods(rows)
    windows = split_windows(first, last, 12, test_months=3, valid_months=3, lookback_months=2)
    data = assign_split(rows, windows, "s", 0.2, 0.2)
    per_siren = data.groupBy("siren").agg(F.countDistinct("split").alias("splits"))
    assert per_siren.filter("splits > 1").count() == 0
    bounds = {r["split"]: (r["first"], r["last"]) for r in
              data.groupBy("split").agg(F.min("period").alias("first"), F.max("period").alias("last")).collect()}
    assert bounds["train"][0] == add_months(first, 2)
    assert add_months(bounds["train"][1], 12) < bounds["valid"][0] <= bounds["valid"][1] < bounds["test"][0]
    assert data.filter(F.col("failure_12m").isNull() | F.col("after_failure")).count() == 0


def test_split_counts_and_a_clear_error_when_a_split_lacks_positives(spark):
    data = spark.createDataFrame(
        [("train", 1), ("train", 0), ("train", 0), ("train", 0), ("valid", 0), ("test", 1)],
        "split string, failure_12m int",
    )
    counts = split_counts(data, "failure_12m")
    assert counts["train"] == {"rows": 4, "positives": 1, "positive_rate": 0.25}
    assert counts["valid"]["positives"] == 0
    windows = split_windows(D(2018, 1, 1), D(2021, 12, 1), 24, 6, 6)
    with pytest.raises(ValueError, match=r"horizon 24m: the valid split has 1 rows and 0 positives"):
        check_split_counts(counts, 24, windows, min_positives=1)
    check_split_counts({**counts, "valid": counts["train"]}, 24, windows, min_positives=1)


def test_class_weight_balances_positives(spark):
    assert positive_weight("balanced", rows=100, positives=10) == 9.0
    assert positive_weight(2.5, rows=100, positives=10) == 2.5
    data = spark.createDataFrame([("a", 1), ("b", 0)], "siren string, label int")
    expected = spark.createDataFrame([("a", 1, 9.0), ("b", 0, 1.0)], "siren string, label int, weight double")
    assert_df_equality(add_class_weight(data, "label", 9.0), expected, ignore_nullable=True)


def test_class_weight_multiplies_the_sample_weight_of_positives_only(spark):
    # After negative sampling at 1/4, negatives weigh 4: the class weight leaves them as they are.
    sampled = spark.createDataFrame([("a", 1, 1.0), ("b", 0, 4.0)], "siren string, label int, weight double")
    expected = spark.createDataFrame([("a", 1, 9.0), ("b", 0, 4.0)], "siren string, label int, weight double")
    assert_df_equality(add_class_weight(sampled, "label", 9.0), expected, ignore_nullable=True)


def test_downsampled_negatives_keep_their_expected_total_weight(spark):
    data = spark.range(4000).select(
        "id", (F.col("id") % 20 == 0).cast("int").alias("label"), F.lit(1.0).alias("weight")
    )
    sampled = downsample_negatives(data, "label", 0.25, seed=3, key_cols=("id",))
    totals = {r["label"]: (r["rows"], r["weight"]) for r in
              sampled.groupBy("label").agg(F.count("*").alias("rows"), F.sum("weight").alias("weight")).collect()}
    assert totals[1] == (200, 200.0)  # every positive kept, weight unchanged
    assert totals[0][0] == pytest.approx(950, rel=0.1)
    assert totals[0][1] == pytest.approx(3800, rel=0.1)
    assert downsample_negatives(data, "label", 1.0, seed=3) is data
    # The same rows whatever the partitioning: the sample is a hash of each row's key.
    kept = {r.id for r in sampled.collect()}
    assert {r.id for r in downsample_negatives(data.repartition(3), "label", 0.25, 3, key_cols=("id",)).collect()} == kept
    assert {r.id for r in downsample_negatives(data.withColumn("id", F.col("id") + 0), "label", 0.25, 4,
                                               key_cols=("id",)).collect()} != kept  # another seed, another sample
