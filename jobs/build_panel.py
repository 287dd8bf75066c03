"""Build the SIREN x month panel (lake/panel) from the bronze tables: a full build or a refresh.

Without a panel (or with --full) every period is built and the table replaced. Otherwise only the
periods the new batches can change are rewritten (features.panel.refresh_start), by replaceWhere on
`period`, in one commit; a run with no new batch changes nothing. The perimeter is point in time, so
the new batches change it from their own month on, bar the few changes that reach earlier
(features.perimeter.perimeter_changes), which the rewritten periods include. A change of the
panel's columns rebuilds every period; a change of conf's `panel:` rules needs --full.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from features.aggregates import headcount_history, headcount_versions
from features.calendar import batch_month, batch_month_col
from features.labels import failure_dates, label_name
from features.panel import PanelRules, build_panel, refresh_start
from features.perimeter import headcount_spans, perimeter_changes, perimeter_spans
from ingestion.registry import SOURCES
from jobs import delta_io, preflight
from jobs.cli import base_parser, config_from_args, exit_with_status, progress
from jobs.config import Config
from jobs.lake import Lake
from jobs.lock import locked
from common.observability import stage
from jobs.session import writer_session

log = logging.getLogger(__name__)

REFERENCE_DDL = {
    "departements": "departement string, region_code string, region_name string",
    "naf_sections": "section string, first_division int, last_division int, label string",
}


def read_bronze(spark: SparkSession, lake: Lake) -> dict[str, DataFrame]:
    """Every bronze table by source name; a table not ingested yet reads as empty, with its schema."""
    tables = {}
    for source in SOURCES:
        path = lake.bronze(source.name)
        if delta_io.table_exists(spark, path):
            tables[source.name] = delta_io.read(spark, path)
        else:
            log.warning("bronze table %s not found: read as empty", path)
            tables[source.name] = spark.createDataFrame([], source.bronze_ddl)
    return tables


def read_references(spark: SparkSession, conf: Config) -> dict[str, DataFrame]:
    """The reference tables the panel joins (départements and regions, NAF sections), from CSV."""
    folder = conf.path("reference_dir")
    return {
        name: spark.read.csv(str(folder / conf["panel"]["reference"][name]), header=True, schema=ddl)
        for name, ddl in REFERENCE_DDL.items()
    }


def batch_bounds(spark: SparkSession, lake: Lake) -> tuple[dt.date, dt.date]:
    """The months of the first and the last batch ingested (ingest_log)."""
    if not delta_io.table_exists(spark, lake.ingest_log):
        raise FileNotFoundError(f"no ingest log at {lake.ingest_log}: run `python -m jobs.ingest` first")
    first, last = delta_io.read(spark, lake.ingest_log).agg(F.min("batch"), F.max("batch")).first()
    return batch_month(first), batch_month(last)


def first_data_month(bronze: dict[str, DataFrame]) -> dt.date | None:
    """The first month of headcount data, where the panel starts (None without headcount)."""
    company, establishments = bronze["headcount_company"], bronze["headcount_establishment"]
    months = company.select("period").unionByName(establishments.select("period"))
    return months.agg(F.min("period")).first()[0]


def first_opening_since(proceedings: DataFrame, after: dt.date) -> dt.date | None:
    """The month of the earliest opening delivered in a batch after month `after` (None if none)."""
    delivered_since = batch_month_col(F.col("_batch")) > F.lit(after)
    new_openings = proceedings.filter(delivered_since).select("siren", "effective_date", "is_opening")
    first = failure_dates(new_openings).agg(F.min("failure_date")).first()[0]
    return first.replace(day=1) if first else None


def first_perimeter_change(
    spans: DataFrame, legal_units: DataFrame, after: dt.date, rules: PanelRules
) -> dt.date | None:
    """The earliest month up to `after` whose perimeter the batches after month `after` change (None if none).

    `spans` is perimeter.headcount_spans, before exclusions.
    """
    changes = perimeter_changes(spans, legal_units, after, rules.excluded_legal_category_prefixes,
                                rules.excluded_naf_divisions)
    return changes.agg(F.min("first_period")).first()[0]


def same_columns(a: DataFrame, b: DataFrame) -> bool:
    """True when both frames have the same column names and types, in order."""
    return [(f.name, f.dataType) for f in a.schema] == [(f.name, f.dataType) for f in b.schema]


@locked
def run(spark: SparkSession, conf: Config, full: bool = False) -> dict:
    """Build or refresh the panel of `conf`'s lake.

    Returns what was done: `mode` (full, refresh or up to date), the periods written (`start` to
    `end`), their `rows` and positive label rates (`rate_<h>m`).
    """
    rules = PanelRules.from_conf(conf["panel"], conf["horizons"])
    lake = Lake.from_conf(conf)
    path = lake.panel
    with stage(spark, "build_panel: read bronze"), progress("read bronze") as counts:
        bronze = read_bronze(spark, lake)
        references = read_references(spark, conf)
        first_batch, end = batch_bounds(spark, lake)
        # Cached: the perimeter reads it three times and the panel's headcount once more; each read
        # would scan the establishments' headcount again (51M rows at national scale).
        history = headcount_history(bronze["headcount_company"], bronze["headcount_establishment"]).cache()
        first_month = first_data_month(bronze)
        if first_month is None:
            raise ValueError("no headcount in the bronze tables: the perimeter cannot be decided")
        counts.update(first_batch=first_batch, last_batch=end, first_month=first_month)
    with stage(spark, "build_panel: perimeter"), progress("perimeter") as counts:
        versions = headcount_versions(history, first_batch, rules.headcount_delay_months)
        by_headcount = headcount_spans(versions, end, rules.min_headcount, rules.lookback_years).cache()
        firms = perimeter_spans(by_headcount, bronze["sirene_legal_units"], rules.excluded_legal_category_prefixes,
                                rules.excluded_naf_divisions).cache()
        counts["firms"] = firms.select("siren").distinct().count()

    try:
        mode, start = plan(spark, path, bronze, by_headcount, rules, first_month, end, full)
        if start is None:
            log.info("panel %s already holds every period up to %s: nothing to do", path, end)
            return {"mode": "up to date", "start": None, "end": end, "rows": 0}
        with stage(spark, f"build_panel: {mode} from {start}"), progress(f"panel {mode}") as counts:
            panel = build_panel(bronze, history, firms, references, rules, first_batch, start, end)
            if mode == "refresh" and not same_columns(panel, delta_io.read(spark, path)):
                log.info("the panel's columns changed: rebuilding every period")
                mode, start = "full", first_month
                panel = build_panel(bronze, history, firms, references, rules, first_batch, start, end)
            write(panel, path, mode, start)
            written = delta_io.read(spark, path).filter(F.col("period") >= F.lit(start))
            done = {"mode": mode, "start": start, "end": end, **summary(written, rules.horizons)}
            counts.update(done)
        return done
    finally:
        for cached in (firms, by_headcount, history):
            cached.unpersist()


def plan(
    spark: SparkSession, path: Path, bronze: dict[str, DataFrame], spans: DataFrame, rules: PanelRules,
    first_month: dt.date, end: dt.date, full: bool,
) -> tuple[str, dt.date | None]:
    """What to write: (`full` or `refresh`, first period to write; None when up to date).

    `spans` is perimeter.headcount_spans, before exclusions.
    """
    if full or not delta_io.table_exists(spark, path):
        return "full", first_month
    panel_last = delta_io.read(spark, path).agg(F.max("period")).first()[0]
    if panel_last is None:
        return "full", first_month
    if panel_last >= end:
        return "refresh", None
    opening = first_opening_since(bronze["proceedings"], panel_last)
    change = first_perimeter_change(spans, bronze["sirene_legal_units"], panel_last, rules)
    if change is not None:
        log.info("the new batches change the perimeter from %s", change)
    return "refresh", refresh_start(panel_last, first_month, end, opening, change, max(rules.horizons))


def write(panel: DataFrame, path: Path, mode: str, start: dt.date) -> None:
    """Write the panel in one commit: the whole table, or the periods from `start` on."""
    one_file_per_period = panel.repartition("period")
    if mode == "full":
        delta_io.overwrite(one_file_per_period, path, ["period"])
    else:
        delta_io.replace_where(one_file_per_period, path, f"period >= DATE'{start.isoformat()}'", ["period"])


def summary(panel: DataFrame, horizons: Sequence[int]) -> dict[str, float | int | None]:
    """Rows, and the share of positive labels among labelled rows before failure per horizon (`rate_<h>m`)."""
    live = ~F.col("after_failure")
    rates = [F.round(F.avg(F.when(live, F.col(label_name(h)))), 4).alias(f"rate_{h}m") for h in horizons]
    return panel.agg(F.count(F.lit(1)).alias("rows"), *rates).first().asDict()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: build or refresh the panel under --lake-dir."""
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="rebuild every period instead of refreshing")
    args = parser.parse_args(argv)
    conf = config_from_args(args)
    preflight.check(conf)
    with writer_session(conf, "build_panel") as spark:
        run(spark, conf, full=args.full)
    return 0


def cli() -> None:
    """Console entry point (`ew-build-panel`)."""
    exit_with_status(main)


if __name__ == "__main__":
    cli()
