"""The one home of Delta writes and reads: every write is a single commit, re-runs change nothing.

Modes:
- `replace_where`: overwrite exactly the rows matching a predicate (a batch, a period), creating
  the table on first write. The predicate is checked by Delta: a row outside it fails the write.
- `overwrite`: replace the whole table (small derived tables).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Sequence

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession


def table_exists(spark: SparkSession, path: str | Path) -> bool:
    """True when `path` holds a Delta table."""
    return DeltaTable.isDeltaTable(spark, str(path))


def read(spark: SparkSession, path: str | Path, version: int | None = None) -> DataFrame:
    """Read a Delta table, at `version` when given (time travel)."""
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(str(path))


def current_version(spark: SparkSession, path: str | Path) -> int:
    """The latest committed version of the table at `path`."""
    return DeltaTable.forPath(spark, str(path)).history(1).select("version").first()[0]


def periods(spark: SparkSession, path: str | Path) -> list:
    """The distinct `period` values of a table, sorted (empty when there is no table)."""
    if not table_exists(spark, path):
        return []
    return sorted(row.period for row in read(spark, path).select("period").distinct().collect())


def replace_where(
    df: DataFrame,
    path: str | Path,
    predicate: str,
    partition_by: Sequence[str] = (),
) -> None:
    """Replace the rows of the table at `path` that match `predicate` with `df`, in one commit.

    Creates the table (partitioned by `partition_by`) when it does not exist yet.
    """
    writer = df.write.format("delta").mode("overwrite")
    if table_exists(df.sparkSession, path):
        writer = writer.option("replaceWhere", predicate)
    elif partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(str(path))


def overwrite(df: DataFrame, path: str | Path, partition_by: Sequence[str] = ()) -> None:
    """Replace the whole table at `path` with `df`, in one commit (schema may change)."""
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(str(path))


def sql_literal(value: object) -> str:
    """Render a Python value as a SQL literal for a `replaceWhere` predicate."""
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dt.date):
        return f"DATE'{value.isoformat()}'"
    text = str(value).replace("'", "''")
    return f"'{text}'"
