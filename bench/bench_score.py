"""Scoring time and memory: one month of the panel through the champions, alerts and reasons.

    python -m bench.bench_score --firms 20000                  # synthetic month, planted signal
    python -m bench.bench_score --lake-dir work/lake           # a built panel and its champions

Synthetic mode: `--firms` firms (the scale; national is 350,000) with `--features` features, one
GBT (`--trees` trees of depth `--depth`, fitted on a small sample) standing for the three
champions, and last month's levels as history; the month is scored as jobs.score does (three
probabilities, levels, cap, first alerts, reasons from the trees) and written to a temporary Delta
table. Panel mode scores the panel's latest month with the registered champions, into a temporary
scores table. Peak memory is the resident size of the driver, the JVM and the Python workers,
sampled. Writes bench/results/score.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Sequence

import psutil
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from features.calendar import add_months
from jobs import delta_io
from jobs.cli import config_from_args
from jobs.lake import Lake
from jobs.score import score_periods
from jobs.session import build_session
from jobs.tracking import configure_mlflow
from scoring.alerts import AlertPolicy
from scoring.explain import extract_ensemble
from training.model import gbt_pipeline, gbt_stage, with_positive_probability
from scoring.score import Champion, score_period
from bench import report

PERIOD = dt.date(2024, 6, 1)
REGIONS = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"]
THEMES = ["social_debt", "partial_activity", "headcount", "finances", "payment_delays", "profile"]
log = logging.getLogger("bench.score")


class PeakMemory:
    """Samples the resident memory of this process and its children (the JVM, Python workers)."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak_mb, self._stop = interval, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process(os.getpid())
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def synthetic_month(spark: SparkSession, firms: int, features: int, seed: int) -> DataFrame:
    """`firms` panel-like rows of PERIOD: identity columns, features f0.. (f4 often missing) and a
    rare label planted in a few of them."""
    values = [F.rand(seed + i).alias(f"f{i}") for i in range(features)]
    rows = spark.range(firms).select("id", *values)
    rows = rows.withColumn("f4", F.when(F.rand(seed + 99) < 0.3, None).otherwise(F.col("f4")))
    logit = -6.0 + 3 * F.col("f0") + 2 * (F.col("f1") > 0.8).cast("double") + 3 * F.col("f2") * F.col("f3")
    bucket = (F.pmod(F.xxhash64("id"), F.lit(len(REGIONS))) + 1).cast("int")
    region = F.element_at(F.array(*[F.lit(r) for r in REGIONS]), bucket)
    return rows.select(
        F.lpad(F.col("id").cast("string"), 9, "0").alias("siren"), F.lit(PERIOD).alias("period"),
        region.alias("region"),
        F.lit("21").alias("departement"), F.concat(F.lit("SA "), F.col("id").cast("string")).alias("name"),
        F.lit("DIJON").alias("town"), F.lit("25.62A").alias("naf"), F.lit(25).alias("headcount"),
        *[F.col(f"f{i}") for i in range(features)],
        (F.rand(seed + 1000) < 1 / (1 + F.exp(-logit))).cast("double").alias("label"),
    )


def synthetic_run(spark: SparkSession, firms: int, features: int, trees: int, depth: int, seed: int,
                  folder: Path) -> dict:
    """Score a synthetic month of `firms` firms; return the figures."""
    names = [f"f{i}" for i in range(features)]
    fill = {n: (None if n == "f4" else 0.0) for n in names}
    month = synthetic_month(spark, firms, features, seed)
    sample = month.limit(5000).withColumn("weight", F.lit(1.0))
    start = time.monotonic()
    model = gbt_pipeline(names, fill, {"max_iter": trees, "max_depth": depth, "step_size": 0.1}, "label", "weight",
                         seed).fit(sample)
    fit_seconds = time.monotonic() - start
    # Thresholds that alert about 2% (high) and 8% (moderate) of the firms.
    high, moderate = with_positive_probability(model.transform(sample), "p").approxQuantile("p", [0.98, 0.92], 0.001)
    themes = {n: THEMES[i % len(THEMES)] for i, n in enumerate(names)}
    champions = [Champion(h, f"failure_{h}m", "1", model, {}, themes) for h in (12, 18, 24)]
    policy = AlertPolicy(18, high, moderate, {"27": 5}, 12, 3, 2)
    # Last month: a tenth of the firms alerted, so first alerts and the cap have history to join.
    history = month.select(
        "siren", F.lit(add_months(PERIOD, -1)).alias("period"),
        F.when(F.rand(seed + 7) < 0.03, "high").when(F.rand(seed + 8) < 0.1, "moderate").otherwise("none")
        .alias("alert_level"),
    )
    start = time.monotonic()
    extract_ensemble(gbt_stage(model))
    extract_seconds = time.monotonic() - start
    month = month.drop("label").withColumn("after_failure", F.lit(False)).cache()
    month.count()  # generated once, outside the timing
    scores_path = folder / "scores"
    with PeakMemory() as memory:
        start = time.monotonic()
        scores = score_period(month, history, PERIOD, champions, policy)
        delta_io.replace_where(scores.repartition("region"), scores_path, f"period = DATE'{PERIOD}'",
                               ["region", "period"])
        seconds = time.monotonic() - start
    written = delta_io.read(spark, scores_path)
    levels = {r.alert_level: r["count"] for r in written.groupBy("alert_level").count().collect()}
    return {
        "mode": "synthetic", "firms": firms, "features": features, "model_inputs": features + 1,
        "trees": trees, "depth": depth, "fit_seconds_on_5000_rows": round(fit_seconds, 1),
        "extract_trees_seconds": round(extract_seconds, 2), "score_and_write_seconds": round(seconds, 1),
        "firms_per_second": round(firms / seconds), "peak_rss_mb": round(memory.peak_mb),
        "alerts": {level: levels.get(level, 0) for level in ("high", "moderate", "none")},
    }


def panel_run(spark: SparkSession, conf, folder: Path) -> dict:
    """Score the panel's latest month with the registered champions into `folder`; return the figures."""
    latest = delta_io.periods(spark, Lake.from_conf(conf).panel)[-1]
    # Absolute paths replace the lake's: the real scores table is left alone.
    conf["tables"]["scores"] = str(folder / "scores")
    conf["tables"]["in_proceedings"] = str(folder / "in_proceedings")
    with PeakMemory() as memory:
        start = time.monotonic()
        summary = score_periods(spark, conf, configure_mlflow(conf), [latest])[0]
        seconds = time.monotonic() - start
    return {"mode": "panel", "period": latest.isoformat()[:7], **summary, "seconds": round(seconds, 1),
            "firms_per_second": round(summary["rows"] / seconds), "peak_rss_mb": round(memory.peak_mb)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark once, print its figures and write them to bench/results/score.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20_000, help="firms in the synthetic month (the scale)")
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--trees", type=int, default=30)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--conf", default=None)
    parser.add_argument("--lake-dir", default=None, help="score this lake's panel with its champions instead")
    parser.add_argument("--mlflow-uri", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    conf = config_from_args(argparse.Namespace(conf=args.conf, lake_dir=args.lake_dir, mlflow_uri=args.mlflow_uri))
    spark = build_session(conf, app_name="bench_score")
    folder = Path(tempfile.mkdtemp(prefix="bench_score_"))
    try:
        if args.lake_dir:
            figures = panel_run(spark, conf, folder)
        else:
            figures = synthetic_run(spark, args.firms, args.features, args.trees, args.depth, args.seed, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # Other work on the machine slows every figure: record how busy it was.
    report("score", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
