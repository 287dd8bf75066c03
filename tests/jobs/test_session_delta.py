"""The session factory gives a Spark with Delta: write, replaceWhere one partition, time travel."""
import datetime as dt

from chispa import assert_df_equality

from jobs import delta_io
from jobs.config import load_config

SCHEMA = "siren string, period date, amount double"


def _rows(spark, rows):
    return spark.createDataFrame(rows, SCHEMA)


def test_delta_write_replace_partition_and_time_travel(spark, tmp_path):
    path = tmp_path / "table"
    jan, feb = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
    first = _rows(spark, [("000000001", jan, 1.0), ("000000002", jan, 2.0), ("000000001", feb, 3.0)])
    delta_io.replace_where(first, path, f"period = {delta_io.sql_literal(str(feb))}", ["period"])
    assert delta_io.current_version(spark, path) == 0
    assert_df_equality(delta_io.read(spark, path), first, ignore_row_order=True)

    # Replace February only: January's rows stay as they were.
    new_feb = _rows(spark, [("000000001", feb, 30.0), ("000000003", feb, 4.0)])
    delta_io.replace_where(new_feb, path, "period = DATE'2024-02-01'", ["period"])
    assert delta_io.current_version(spark, path) == 1
    expected = _rows(spark, [("000000001", jan, 1.0), ("000000002", jan, 2.0),
                             ("000000001", feb, 30.0), ("000000003", feb, 4.0)])
    assert_df_equality(delta_io.read(spark, path), expected, ignore_row_order=True)

    # Time travel: version 0 is the first write, untouched by the replacement.
    assert_df_equality(delta_io.read(spark, path, version=0), first, ignore_row_order=True)


def test_replace_where_rejects_rows_outside_predicate(spark, tmp_path):
    path = tmp_path / "table"
    jan = dt.date(2024, 1, 1)
    delta_io.replace_where(_rows(spark, [("000000001", jan, 1.0)]), path, "period = DATE'2024-01-01'", ["period"])
    outside = _rows(spark, [("000000001", dt.date(2024, 3, 1), 1.0)])
    try:
        delta_io.replace_where(outside, path, "period = DATE'2024-01-01'", ["period"])
    except Exception as error:  # Delta refuses data that does not match replaceWhere
        assert "replaceWhere" in str(error) or "DELTA_REPLACE_WHERE_MISMATCH" in str(error)
    else:
        raise AssertionError("a row outside the predicate was written")
    # The failed write left the table at its previous version.
    assert delta_io.current_version(spark, path) == 0


def test_config_extends_and_resolves_paths():
    conf = load_config()
    assert conf["spark"]["settings"]["spark.sql.session.timeZone"] == "UTC"
    assert conf.path("lake_dir").is_absolute()
    assert conf.with_overrides(lake_dir="/tmp/x").path("lake_dir").as_posix() == "/tmp/x"


def test_session_settings_are_restored_after_the_block(spark):
    from jobs.session import session_settings

    key, unset_key = "spark.sql.shuffle.partitions", "spark.sql.sources.parallelPartitionDiscovery.threshold"
    before = spark.conf.get(key)
    had_unset = spark.conf.get(unset_key, None)
    with session_settings(spark, {key: 7, unset_key: 1000}):
        assert spark.conf.get(key) == "7" and spark.conf.get(unset_key) == "1000"
    assert spark.conf.get(key) == before
    assert spark.conf.get(unset_key, None) == had_unset
