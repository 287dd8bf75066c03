"""bench.pandas_panel: the pandas reference computes the panel's monthly aggregates as Spark does."""
import datetime as dt

import pandas as pd
from pyspark.sql import functions as F

from bench import bench_panel, pandas_panel
from features.panel import PanelRules
from jobs import build_panel, delta_io


def test_a_version_known_later_but_older_does_not_replace_the_current_one_and_expires():
    # Months as counts since 1970-01: 600 is 2020-01.
    rows = pd.DataFrame({"siren": ["a", "a", "a"], "month": [600, 602, 601], "value": [1.0, 3.0, 2.0],
                         "known": [600, 602, 603]})
    current = pandas_panel.current_months(rows, ["siren"], ["month"], start=600, end=606, max_age=3, age_from="month")
    assert current[["period", "value"]].values.tolist() == [[600, 1.0], [601, 1.0], [602, 3.0], [603, 3.0], [604, 3.0]]


def test_pandas_and_spark_agree_on_one_regions_aggregates(spark, tiny_lake):
    lake = tiny_lake.lake
    # The tiny lake's most populous region, for the most rows to compare.
    region = (delta_io.read(spark, lake.panel).groupBy("region").agg(F.countDistinct("siren").alias("firms"))
              .orderBy(F.desc("firms"), "region").first()["region"])
    rules = PanelRules.from_conf(tiny_lake.conf["panel"], tiny_lake.conf["horizons"])
    bronze = build_panel.read_bronze(spark, lake)
    first_batch, end = build_panel.batch_bounds(spark, lake)
    start = build_panel.first_data_month(bronze)

    found = bench_panel.region_reference(spark, lake, bronze, lake.panel, rules, first_batch, start, end, region)

    assert found["engines_agree"], found["disagreements"]
    assert found["firms"] > 10 and found["region"] == region
    assert all(found["rows"][name] > 0 for name in ("contributions", "debts", "headcount", "bdf_ratios", "paydex"))
    assert found["pandas_seconds"] > 0 and found["spark_seconds"] > 0


def test_month_numbers_count_from_1970():
    assert pandas_panel.month_number(dt.date(2020, 1, 15)) == 600
    assert pandas_panel.month_number(pd.Series(pd.to_datetime(["1970-02-01", "2021-12-31"]))).tolist() == [1, 623]
