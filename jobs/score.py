"""Score a month of the panel with the champion models and write the scores, partitioned by region.

    python -m jobs.score [--period YYYY-MM]      (default: the panel's latest period)

Every live perimeter firm of the month gets p_12m, p_18m, p_24m, an alert level, a first-alert flag
and its reasons in `lake/scores` (docs/TABLES.md, "Scores"); firms already in proceedings go to
`lake/in_proceedings` instead. Re-scoring a month replaces exactly that month's rows, in one commit.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Mapping, Sequence

import mlflow
import mlflow.spark
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from features.calendar import add_months, parse_year_month
from jobs import delta_io, preflight
from jobs.cli import base_parser, config_from_args, exit_with_status, progress
from jobs.config import Config
from common.observability import stage
from jobs.lake import Lake
from jobs.lock import locked
from jobs.session import writer_session
from jobs.tracking import configure_mlflow
from scoring.alerts import AlertPolicy
from training.registry import below_baselines_warning, model_name, version_by_alias
from scoring import drift
from scoring.score import (
    HISTORY_SCHEMA, Champion, firms_in_proceedings, live_firms, model_version_label, probability_col, score_period,
)
from training import profile
from training.profile import DRIFT_REFERENCE

log = logging.getLogger(__name__)


def load_champions(client: MlflowClient, horizons: Sequence[int], alias: str,
                   versions: Mapping[str, str] | None = None) -> list[Champion]:
    """The registered version holding `alias` of each horizon's model, or the one `versions` names
    (model name -> version), loaded as a Spark pipeline."""
    champions = []
    versions = dict(versions or {})
    unknown = sorted(set(versions) - {model_name(h) for h in horizons})
    if unknown:
        raise LookupError(f"model(s) {', '.join(unknown)} not among the horizons' models "
                          f"{', '.join(model_name(h) for h in horizons)}")
    for horizon in horizons:
        name = model_name(horizon)
        if name in versions:
            version = client.get_model_version(name, versions[name])
        else:
            version = version_by_alias(client, name, alias)
        if version is None:
            raise LookupError(f"no {alias!r} version of model {name}: train first (python -m jobs.train)")
        # By version, not alias: the version recorded in the scores is the one that scored.
        model = mlflow.spark.load_model(f"models:/{name}/{version.version}")
        params = client.get_run(version.run_id).data.params
        spec = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/training_spec.json")
        champions.append(Champion(horizon, name, str(version.version), model, params, spec["features"]["themes"],
                                  drift_reference(client, version.run_id, name, str(version.version))))
        log.info("scoring with %s version %s (run %s)", name, version.version, version.run_id)
        warning = below_baselines_warning(version)
        if warning:
            log.warning("%s", warning)
    return champions


def drift_reference(client: MlflowClient, run_id: str, name: str, version: str) -> dict | None:
    """The drift reference a model's run logged, or None (and a warning) for a run without one."""
    if not any(a.path == DRIFT_REFERENCE for a in client.list_artifacts(run_id)):
        log.warning("%s version %s has no %s (trained before the drift watch): its months are not "
                    "watched; retrain to watch them", name, version, DRIFT_REFERENCE)
        return None
    return profile.from_json(mlflow.artifacts.load_dict(f"runs:/{run_id}/{DRIFT_REFERENCE}"))


def watch(spark: SparkSession, conf: Config, firms: DataFrame, scores: DataFrame, period: dt.date,
          champions: Sequence[Champion], source: str) -> list[dict]:
    """The drift watch's rows of a scored month (scoring/drift.py) against the alert horizon's
    champion's reference, written to `lake/monitoring` in place of that month's rows of `source`
    (`live`, or `backtest` for these models); a month drifting is logged as a warning. Empty
    (nothing written) when that champion has no reference."""
    champion = next(c for c in champions if c.horizon == conf["scoring"]["alert_horizon"])
    if champion.reference is None:
        return []
    reference = {**champion.reference, "score": {**champion.reference["score"],
                                                 "column": probability_col(champion.horizon)}}
    features, binned, alerts = drift.month_counts(firms, scores, reference)
    settings = conf["monitoring"]
    versions = model_version_label(champions)
    rows = drift.monitoring_rows(
        period, source, versions, reference, profile.counts_by_name(features.collect()),
        profile.counts_by_name(binned.collect(), "region"), {r["region"]: r.asDict() for r in alerts.collect()},
        drift.DriftRule.from_conf(settings),
    )
    keys = {"period": period, "source": source, **({"model_version": versions} if source == drift.BACKTEST else {})}
    delta_io.replace_where(spark.createDataFrame(rows, drift.MONITORING_SCHEMA), Lake.from_conf(conf).monitoring,
                           keyed_predicate(keys))
    warning = drift.drift_warning(rows, settings["features_named"])
    if warning:
        log.warning("%s", warning)
    return rows


def alert_policy(conf: Config, champions: Sequence[Champion]) -> AlertPolicy:
    """The alert policy of conf, with the thresholds logged by the alert horizon's champion."""
    settings = conf["scoring"]
    horizon = settings["alert_horizon"]
    champion = next((c for c in champions if c.horizon == horizon), None)
    if champion is None:
        raise ValueError(f"scoring.alert_horizon {horizon} is not among the scored horizons")
    return AlertPolicy(
        horizon=horizon,
        threshold_high=float(champion.params["threshold_high"]),
        threshold_moderate=float(champion.params["threshold_moderate"]),
        new_high_cap=settings["alerts"].get("new_high_cap") or {},
        lookback_months=settings["first_alert_lookback_months"],
        max_themes=settings["reasons"]["max_themes"],
        max_features=settings["reasons"]["max_features"],
    )


def alert_history(spark: SparkSession, scores_path: Path, period: dt.date, months: int,
                  model_version: str | None = None) -> DataFrame:
    """Earlier scores (`siren, period, alert_level`) of the `months` months before `period` (of
    `model_version` only, when given: a back-test's own history)."""
    if not delta_io.table_exists(spark, scores_path):
        return spark.createDataFrame([], HISTORY_SCHEMA)
    earlier = delta_io.read(spark, scores_path).where(
        F.col("period").between(F.lit(add_months(period, -months)), F.lit(add_months(period, -1)))
    )
    if model_version is not None:
        earlier = earlier.where(F.col("model_version") == model_version)
    return earlier.select("siren", "period", "alert_level")


def check_in_panel(spark: SparkSession, lake: Lake, periods: Sequence[dt.date]) -> None:
    """Raise a ValueError naming the `periods` the panel lacks."""
    panel_periods = set(delta_io.periods(spark, lake.panel))
    missing = [p.isoformat()[:7] for p in periods if p not in panel_periods]
    if missing:
        raise ValueError(f"period(s) {', '.join(missing)} not in the panel")


def keyed_predicate(keys: Mapping[str, object]) -> str:
    """The replaceWhere predicate of rows whose columns equal `keys`."""
    return " AND ".join(f"{column} = {delta_io.sql_literal(value)}" for column, value in keys.items())


def score_month(spark: SparkSession, conf: Config, panel: DataFrame, period: dt.date,
                champions: Sequence[Champion], policy: AlertPolicy, target: Path, source: str) -> dict:
    """Score the live firms of `period` into `target`, partitioned by region and period, in place
    of that month's rows (for a back-test, that month's rows of these models: the history its
    first alerts and caps read is its own), and watch the month (`watch`, under `source`).
    Returns its rows, alerts by level, first alerts and whether it drifts."""
    versions = model_version_label(champions)
    keys = {"period": period, **({"model_version": versions} if source == drift.BACKTEST else {})}
    # The cap needs last month's levels even with a shorter look-back.
    history = alert_history(spark, target, period, max(policy.lookback_months, 1), keys.get("model_version"))
    firms = live_firms(panel, period)
    # Cached: the counts, the write and the watch share one computation of the scores.
    scores = score_period(firms, history, period, champions, policy).persist()
    try:
        counts = _alert_counts(scores)
        # One file per region and month, rather than one per task and region.
        delta_io.replace_where(scores.repartition("region"), target, keyed_predicate(keys),
                               partition_by=["region", "period"])
        watched = watch(spark, conf, firms, scores, period, champions, source)
    finally:
        scores.unpersist()
    return {**counts, "drifting": any(r["drifting"] for r in watched if r["kind"] == drift.MONTH)}


def score_periods(spark: SparkSession, conf: Config, client: MlflowClient, periods: Sequence[dt.date]) -> list[dict]:
    """Score each of `periods` (oldest first, so first alerts and caps see the months before) with
    the champions; write scores and firms in proceedings. Returns the counts logged per period."""
    lake = Lake.from_conf(conf)
    check_in_panel(spark, lake, periods)
    with progress("score: load champions") as counts:
        champions = load_champions(client, conf["horizons"], conf["scoring"]["model_alias"])
        counts.update(models=len(champions))
    policy = alert_policy(conf, champions)
    panel = delta_io.read(spark, lake.panel)
    summaries = []
    for period in sorted(periods):
        month = period.isoformat()[:7]
        with progress(f"score {month}") as counts, stage(spark, f"score {month}"):
            counts.update(period=month, **score_month(spark, conf, panel, period, champions, policy, lake.scores,
                                                       drift.LIVE))
            # Cached: the count reuses the written rows instead of re-reading the panel.
            in_proceedings = firms_in_proceedings(panel, period).persist()
            try:
                delta_io.replace_where(in_proceedings.repartition("region"), lake.in_proceedings,
                                       keyed_predicate({"period": period}), partition_by=["region", "period"])
                counts.update(in_proceedings=in_proceedings.count())
            finally:
                in_proceedings.unpersist()
        summaries.append(dict(counts))
    return summaries


def _alert_counts(scores: DataFrame) -> dict:
    """Rows, alerts by level and first alerts of a month's scores."""
    row = scores.agg(
        F.count("*").alias("rows"),
        F.sum((F.col("alert_level") == "high").cast("int")).alias("high"),
        F.sum((F.col("alert_level") == "moderate").cast("int")).alias("moderate"),
        F.sum(F.col("first_alert").cast("int")).alias("first_alerts"),
    ).first().asDict()
    return {key: value or 0 for key, value in row.items()}


def latest_period(spark: SparkSession, conf: Config) -> dt.date:
    """The panel's latest period (raises FileNotFoundError without a panel)."""
    path = Lake.from_conf(conf).panel
    periods = delta_io.periods(spark, path)
    if not periods:
        raise FileNotFoundError(f"no panel at {path}: run python -m jobs.build_panel first")
    return periods[-1]


@locked
def run(spark: SparkSession, conf: Config, periods: Sequence[dt.date] | None = None) -> dict:
    """Score `periods` (default: the panel's latest) with the champions; return the periods scored
    and, per period, its rows, alerts by level, first alerts and firms in proceedings."""
    client = configure_mlflow(conf)
    periods = list(periods) if periods else [latest_period(spark, conf)]
    summaries = score_periods(spark, conf, client, periods)
    return {"periods": [p.isoformat()[:7] for p in sorted(periods)], "rows": sum(s["rows"] for s in summaries),
            "by_period": summaries}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: score --period (default: the panel's latest)."""
    parser = base_parser("Score a month of the panel with the champion models; write lake/scores.")
    parser.add_argument("--period", default=None, help="month to score, YYYY-MM (default: the panel's latest)")
    args = parser.parse_args(argv)
    conf = config_from_args(args)
    preflight.check(conf, uses_mlflow=True)
    with writer_session(conf, "score") as spark:
        run(spark, conf, [parse_year_month(args.period)] if args.period else None)
    return 0


def cli() -> None:
    exit_with_status(main)


if __name__ == "__main__":
    cli()
