"""The monthly refresh, end to end, for the batches not yet processed.

    python -m jobs.pipeline [--retrain missing_champion|always|never]

Ingest the new batch folders, update the panel, retrain when `scoring.pipeline.retrain` says so
(default: only when a horizon has no champion), score every month since the last scored one (at
least the latest), and write every region's list to `paths.exports_dir/<region>/<YYYY-MM>.<fmt>`.
All stages share one SparkSession. A run with nothing new does nothing and says so.

Missing and late batches: a month missing between delivered batches is logged as a warning and the
refresh goes on with what is there (scores cover the latest delivered month). A batch that arrives
late (older than one already ingested) is ingested by the next run, the panel is rebuilt in full
(a refresh only rewrites the months after its last one), and the latest month is scored again.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Sequence

from mlflow.tracking import MlflowClient
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from features.calendar import batch_month, batch_name, month_range
from jobs import build_panel, delta_io, ingest, train
from jobs.cli import base_parser, config_from_args, progress, run
from jobs.config import Config
from jobs.export_region import export_region
from jobs.score import lake_table, panel_path, score_periods, table_periods
from jobs.session import build_session
from jobs.tracking import configure_mlflow
from training.registry import model_name, version_by_alias

log = logging.getLogger(__name__)

RETRAIN_POLICIES = ("missing_champion", "always", "never")


def missing_batches(batches: Sequence[str]) -> list[str]:
    """The batch names absent between the first and the last of `batches` (months with no folder)."""
    if not batches:
        return []
    months = sorted(batch_month(b) for b in batches)
    present = set(months)
    return [batch_name(m) for m in month_range(months[0], months[-1]) if m not in present]


def late_batches(new: Sequence[str], done: Sequence[str]) -> list[str]:
    """The new batches older than the latest batch already ingested: delivered late."""
    return sorted(b for b in new if done and batch_month(b) < max(batch_month(d) for d in done))


def should_train(policy: str, champions_missing: bool, new_data: bool) -> bool:
    """Whether to retrain: `missing_champion` when a horizon has no champion; `always` whenever new
    data came in (or a champion is missing); `never`."""
    if policy not in RETRAIN_POLICIES:
        raise ValueError(f"unknown retrain policy {policy!r}: use one of {', '.join(RETRAIN_POLICIES)}")
    if policy == "never":
        return False
    return champions_missing or (policy == "always" and new_data)


def periods_to_score(
    panel_periods: Sequence[dt.date], scored: Sequence[dt.date], rescore_latest: bool
) -> list[dt.date]:
    """The months to score, oldest first: every panel month after the last scored one (only the
    latest when nothing was scored yet), and the latest again when `rescore_latest`."""
    if not panel_periods:
        return []
    latest = max(panel_periods)
    if not scored:
        return [latest]
    todo = {p for p in panel_periods if p > max(scored)}
    if rescore_latest:
        todo.add(latest)
    return sorted(todo)


def export_paths(conf: Config, region: str, period: dt.date) -> list[Path]:
    """Where the pipeline writes a region's list: `<exports_dir>/<region>/<YYYY-MM>.<format>`."""
    folder = conf.path("exports_dir") / region
    return [folder / f"{period.isoformat()[:7]}.{fmt}" for fmt in conf["scoring"]["export"]["formats"]]


def is_exported(conf: Config, period: dt.date) -> bool:
    """True when some region's list of `period` is on disk (exports run for every region at once)."""
    return any(path.exists() for folder in _region_folders(conf) for path in export_paths(conf, folder.name, period))


def _region_folders(conf: Config) -> list[Path]:
    root = conf.path("exports_dir")
    return [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []


def export_all_regions(spark: SparkSession, conf: Config, period: dt.date) -> dict:
    """Write the list of every scored region at `period`; return the counts (regions, alert lines)."""
    scores = delta_io.read(spark, lake_table(conf, "scores_table")).where(F.col("period") == F.lit(period))
    found = [row.region for row in scores.select("region").distinct().collect()]
    if None in found:
        # A firm whose head office is unknown (e.g. its SIRENE row was quarantined) has no region:
        # it stays in the scores table, but no regional team would read it; say so.
        unrouted = scores.where(F.col("region").isNull()).count()
        log.warning("%d scored firm(s) of %s have no region (head office unknown): in no regional list",
                    unrouted, period.strftime("%Y-%m"))
    regions = sorted(region for region in found if region is not None)
    lines = sum(export_region(spark, conf, region, period, export_paths(conf, region, period)) for region in regions)
    return {"regions": len(regions), "rows": lines}


def champions_missing(client: MlflowClient, conf: Config) -> list[str]:
    """The registered model names of conf's horizons without the scoring alias."""
    alias = conf["scoring"]["model_alias"]
    names = [model_name(h) for h in conf["training"]["horizons"]]
    return [name for name in names if version_by_alias(client, name, alias) is None]


def refresh(spark: SparkSession, conf: Config, client: MlflowClient, stage_args: list[str], retrain: str) -> int:
    """Run every stage that has work, in order; return 0.

    When ingestion left files out, the refresh goes on with what loaded and then raises its error,
    so the run ends with a non-zero status that names the file.
    """
    lake, raw_dir = ingest.Lake.from_conf(conf), conf.path("raw_dir")
    available = ingest.batch_folders(raw_dir)
    done = sorted(ingest.done_batches(spark, lake))
    new = [b for b in available if b not in done]
    gaps = missing_batches(available)
    if gaps:
        log.warning("batch(es) %s missing under %s: their months are scored from the data at hand; "
                    "a late delivery is picked up by a later run", ", ".join(gaps), raw_dir)
    late = late_batches(new, done)
    if late:
        log.warning("late batch(es) %s: the panel is rebuilt and the latest month scored again", ", ".join(late))

    ingest_error, worked = None, False
    if new:
        worked = True
        with progress("pipeline: ingest") as counts:
            try:
                ingest.main(stage_args)
            except ingest.IngestError as error:
                # Ingestion loaded every other file: refresh with them, and fail the run at the end.
                ingest_error = error
            counts.update(batches=len(new), rows=_rows_loaded(spark, lake, new))

    panel_periods = table_periods(spark, panel_path(conf))
    last_done = max((batch_month(b) for b in done + new), default=None)
    if new or (last_done and (not panel_periods or panel_periods[-1] < last_done)):
        worked = True
        with progress("pipeline: panel") as counts:
            counts.update(build_panel.build(spark, conf, full=bool(late)))
        panel_periods = table_periods(spark, panel_path(conf))

    missing = champions_missing(client, conf)
    if should_train(retrain, bool(missing), bool(new)):
        worked = True
        with progress("pipeline: train") as counts:
            train.main(stage_args)
            counts.update(horizons=len(conf["training"]["horizons"]), retrain=retrain, missing=",".join(missing))

    scored = table_periods(spark, lake_table(conf, "scores_table"))
    todo = periods_to_score(panel_periods, scored, rescore_latest=bool(late))
    if todo:
        worked = True
        with progress("pipeline: score") as counts:
            summaries = score_periods(spark, conf, client, todo)
            counts.update(periods=len(todo), rows=sum(s["rows"] for s in summaries))
        scored = sorted(set(scored) | set(todo))

    to_export = sorted(set(todo) | ({scored[-1]} if scored and not is_exported(conf, scored[-1]) else set()))
    for period in to_export:
        worked = True
        with progress(f"pipeline: export {period.isoformat()[:7]}") as counts:
            counts.update(export_all_regions(spark, conf, period), to=str(conf.path("exports_dir")))

    if not worked:
        latest = scored[-1].isoformat()[:7] if scored else "none"
        log.info("nothing to do: no new batch under %s (latest %s), latest month %s already scored and exported",
                 raw_dir, available[-1] if available else "none", latest)
    if ingest_error:
        raise ingest_error
    return 0


def _rows_loaded(spark: SparkSession, lake: "ingest.Lake", batches: Sequence[str]) -> int:
    """Rows loaded into bronze for `batches`, from ingest_log."""
    if not delta_io.table_exists(spark, lake.log):
        return 0
    logged = delta_io.read(spark, lake.log).where(F.col("batch").isin(list(batches)))
    return logged.agg(F.sum("rows_loaded")).first()[0] or 0


def forwarded_args(args) -> list[str]:
    """The common options of this run, for the stages run through their own `main`."""
    pairs = [("--conf", args.conf), ("--raw-dir", args.raw_dir), ("--lake-dir", args.lake_dir),
             ("--mlflow-uri", args.mlflow_uri)]
    return [item for option, value in pairs if value is not None for item in (option, str(value))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser("Monthly refresh: ingest new batches, update the panel, retrain if needed, score, export.")
    parser.add_argument("--retrain", choices=RETRAIN_POLICIES, default=None,
                        help="when to retrain (default: scoring.pipeline.retrain in conf)")
    args = parser.parse_args(argv)
    conf = config_from_args(args)
    spark = build_session(conf, app_name="pipeline")
    client = configure_mlflow(conf)
    return refresh(spark, conf, client, forwarded_args(args), args.retrain or conf["scoring"]["pipeline"]["retrain"])


def cli() -> None:
    run(main)


if __name__ == "__main__":
    cli()
