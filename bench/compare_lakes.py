"""Compare what ingestion wrote in two lakes: every bronze table, quarantine and ingest_log.

    python -m bench.compare_lakes LAKE_A LAKE_B [--conf FILE] [--show N]

For checking that a change to ingestion keeps its results: ingest the same raw folder with both
versions, then compare. Each table is compared row by row both ways with exceptAll (a duplicated
row counts), ingest_log without `ingested_at`. Prints one line per table and the first differing
rows; exits 1 when a table differs, has another schema, or is in one lake only.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

from pyspark.sql import DataFrame, SparkSession

from jobs import delta_io
from jobs.config import load_config
from jobs.lake import Lake
from jobs.session import build_session

log = logging.getLogger("bench.compare_lakes")

# Columns that differ between two runs by design.
RUN_COLUMNS = ("ingested_at",)


def tables(lake: Lake) -> dict[str, Path]:
    """The ingestion tables of `lake` that exist, by name (`bronze/<source>`, then the others)."""
    found, bronze = {}, lake.table("bronze")
    if bronze.is_dir():
        found = {f"bronze/{p.name}": p for p in sorted(bronze.iterdir()) if (p / "_delta_log").is_dir()}
    for path in (lake.quarantine, lake.ingest_log):
        if (path / "_delta_log").is_dir():
            found[path.name] = path
    return found


def differences(a: DataFrame, b: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Rows of `a` not in `b` and rows of `b` not in `a`, duplicates counted; `b`'s columns are
    taken in `a`'s order."""
    b = b.select(*a.columns)
    return a.exceptAll(b), b.exceptAll(a)


def compare(spark: SparkSession, lake_a: Lake, lake_b: Lake, show: int) -> list[str]:
    """One line per table saying how the two lakes differ there; empty when they do not."""
    found_a, found_b = tables(lake_a), tables(lake_b)
    problems = [f"{name}: only in {'A' if name in found_a else 'B'}" for name in sorted(found_a.keys() ^ found_b.keys())]
    for name in [n for n in found_a if n in found_b]:
        a, b = (delta_io.read(spark, found[name]).drop(*RUN_COLUMNS) for found in (found_a, found_b))
        schema_a, schema_b = sorted(a.dtypes), sorted(b.dtypes)
        if schema_a != schema_b:
            problems.append(f"{name}: schemas differ: {schema_a} vs {schema_b}")
            continue
        only_a, only_b = (df.cache() for df in differences(a, b))
        counts = {"A": a.count(), "B": b.count(), "only in A": only_a.count(), "only in B": only_b.count()}
        log.info("%s: %s", name, ", ".join(f"{k} {v}" for k, v in counts.items()))
        if counts["only in A"] or counts["only in B"]:
            problems.append(f"{name}: {counts['only in A']} row(s) only in A, {counts['only in B']} only in B")
            for side, rows in (("A", only_a), ("B", only_b)):
                for row in rows.limit(show).collect():
                    log.info("  only in %s: %s", side, row.asDict())
        only_a.unpersist()
        only_b.unpersist()
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake_a")
    parser.add_argument("lake_b")
    parser.add_argument("--conf", default=None, help="configuration (table names, Spark settings)")
    parser.add_argument("--show", type=int, default=5, help="differing rows shown per table and side")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    conf = load_config(args.conf)
    spark = build_session(conf, app_name="compare_lakes")
    lake_a, lake_b = (Lake.from_conf(conf.with_overrides(lake_dir=lake)) for lake in (args.lake_a, args.lake_b))
    problems = compare(spark, lake_a, lake_b, args.show)
    for problem in problems:
        log.error("%s", problem)
    log.info("%s", "lakes differ" if problems else f"lakes equal: {len(tables(lake_a))} tables")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
