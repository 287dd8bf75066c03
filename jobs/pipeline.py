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
import functools
import logging
from typing import Sequence

from mlflow.tracking import MlflowClient
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from common.observability import run_concurrently
from features.calendar import batch_month, batch_name, month_range
from jobs import build_panel, delta_io, export_region, ingest, preflight, score, train
from jobs.cli import base_parser, config_from_args, exit_with_status, progress
from jobs.config import Config
from jobs.lake import Lake
from jobs.lock import locked
from jobs.session import writer_session
from jobs.tracking import configure_mlflow
from training.registry import below_baselines_warning, model_name, version_by_alias

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


def is_exported(lake: Lake, period: dt.date, formats: Sequence[str]) -> bool:
    """True when some region's list of `period` is on disk (exports run for every region at once)."""
    return any(path.exists() for region in lake.exported_regions() for path in lake.exports(region, period, formats))


def export_all_regions(spark: SparkSession, conf: Config, period: dt.date) -> dict:
    """Write the list of every scored region at `period`; return the counts (regions, alert lines)."""
    lake, formats = Lake.from_conf(conf), conf["scoring"]["export"]["formats"]
    scores = delta_io.read(spark, lake.scores).where(F.col("period") == F.lit(period))
    found = [row.region for row in scores.select("region").distinct().collect()]
    if None in found:
        # A firm whose head office is unknown (e.g. its SIRENE row was quarantined) has no region:
        # it stays in the scores table, but no regional team would read it; say so.
        unrouted = scores.where(F.col("region").isNull()).count()
        log.warning("%d scored firm(s) of %s have no region (head office unknown): in no regional list",
                    unrouted, period.strftime("%Y-%m"))
    regions = sorted(region for region in found if region is not None)
    written = run_concurrently(spark, [
        functools.partial(export_region.run, spark, conf, region, lake.exports(region, period, formats), period)
        for region in regions
    ], conf["scoring"]["export"]["parallel_regions"])
    return {"regions": len(regions), "rows": sum(done["rows"] for done in written)}


def champions_missing(client: MlflowClient, conf: Config) -> list[str]:
    """The registered model names of conf's horizons without the scoring alias."""
    alias = conf["scoring"]["model_alias"]
    names = [model_name(h) for h in conf["horizons"]]
    return [name for name in names if version_by_alias(client, name, alias) is None]


def champion_warnings(client: MlflowClient, conf: Config) -> list[str]:
    """One line per champion of conf's horizons promoted without beating the baselines."""
    alias = conf["scoring"]["model_alias"]
    versions = [version_by_alias(client, model_name(h), alias) for h in conf["horizons"]]
    return [w for w in (below_baselines_warning(v) for v in versions if v is not None) if w]


@locked
def run(spark: SparkSession, conf: Config, retrain: str | None = None) -> dict:
    """Run every stage that has work, in order, through the stages' `run`; return what each did
    (`ingest`, `panel`, `train`, `score`, `export`: absent when the stage had nothing to do).

    `retrain` defaults to conf `scoring.pipeline.retrain`. When ingestion left files out, the
    refresh goes on with what loaded and then raises its error, so the run ends with a non-zero
    status that names the file.
    """
    retrain = retrain or conf["scoring"]["pipeline"]["retrain"]
    client = configure_mlflow(conf)
    lake, raw_dir = Lake.from_conf(conf), conf.path("raw_dir")
    formats = conf["scoring"]["export"]["formats"]
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

    done_stages: dict = {}
    if new:
        with progress("pipeline: ingest") as counts:
            # Files left out do not stop the refresh: it goes on with what loaded and fails at the end.
            done_stages["ingest"] = ingest.run(spark, conf)
            counts.update(batches=len(new), rows=done_stages["ingest"]["rows_loaded"])

    panel_periods = delta_io.periods(spark, lake.panel)
    last_done = max((batch_month(b) for b in done + new), default=None)
    if new or (last_done and (not panel_periods or panel_periods[-1] < last_done)):
        with progress("pipeline: panel") as counts:
            done_stages["panel"] = build_panel.run(spark, conf, full=bool(late))
            counts.update(done_stages["panel"])
        panel_periods = delta_io.periods(spark, lake.panel)

    missing = champions_missing(client, conf)
    for warning in champion_warnings(client, conf):
        log.warning("%s", warning)
    if should_train(retrain, bool(missing), bool(new)):
        with progress("pipeline: train") as counts:
            done_stages["train"] = train.run(spark, conf)
            counts.update(horizons=len(conf["horizons"]), retrain=retrain, missing=",".join(missing))

    scored = delta_io.periods(spark, lake.scores)
    todo = periods_to_score(panel_periods, scored, rescore_latest=bool(late))
    if todo:
        with progress("pipeline: score") as counts:
            done_stages["score"] = score.run(spark, conf, todo)
            counts.update(periods=len(todo), rows=done_stages["score"]["rows"])
        scored = sorted(set(scored) | set(todo))

    to_export = sorted(set(todo) | ({scored[-1]} if scored and not is_exported(lake, scored[-1], formats) else set()))
    for period in to_export:
        with progress(f"pipeline: export {period.isoformat()[:7]}") as counts:
            counts.update(export_all_regions(spark, conf, period), to=str(lake.exports_dir))
            done_stages.setdefault("export", {})[period.isoformat()[:7]] = dict(counts)

    if not done_stages:
        latest = scored[-1].isoformat()[:7] if scored else "none"
        log.info("nothing to do: no new batch under %s (latest %s), latest month %s already scored and exported",
                 raw_dir, available[-1] if available else "none", latest)
    if "ingest" in done_stages:
        ingest.raise_errors(done_stages["ingest"])
    return done_stages


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser("Monthly refresh: ingest new batches, update the panel, retrain if needed, score, export.")
    parser.add_argument("--retrain", choices=RETRAIN_POLICIES, default=None,
                        help="when to retrain (default: scoring.pipeline.retrain in conf)")
    args = parser.parse_args(argv)
    conf = config_from_args(args)
    preflight.check(conf, uses_mlflow=True)
    with writer_session(conf, "pipeline") as spark:
        run(spark, conf, args.retrain)
    return 0


def cli() -> None:
    exit_with_status(main)


if __name__ == "__main__":
    cli()
