"""Spark GBT training time and its speed levers, against LightGBM on the same rows.

    python -m bench.bench_train --rows 200000 --features 40          # synthetic rows, planted signal
    python -m bench.bench_train --lake-dir work/lake --horizon 18     # a built panel (national scale)

Each lever is one GBT fit with the same trees (depth, iterations, step) on the same training rows,
timed and scored on the same test rows (AUC-PR, from the same binned metrics as training):
- `plain`: the input as read, not cached; `cached`: the input cached first (the others build on it);
- `bins_32` / `bins_256`: maxBins (the others use training.max_bins); `partitions_x4`: 4 partitions
  per core instead of the input's;
- `negatives_25pct`: a quarter of the negatives, weighted 4 (training.negative_fraction);
- `checkpoint_10`: checkpointing every 10 iterations (cuts the lineage of long fits).
LightGBM gets the same rows, weights and tree size, read from Parquet that Spark writes (the transfer
is timed apart). Writes bench/results/train.json.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import lightgbm
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import delta_io
from jobs.config import load_config
from jobs.lake import Lake
from jobs.session import build_session
from jobs.train import catalogue_spec
from training import metrics
from training.dataset import add_class_weight, downsample_negatives, positive_weight
from training.model import gbt_pipeline, with_positive_probability
from training.trainer import FeatureSpec, SPLIT_COL, label_column, prepare, split_rows
from bench import report

LABEL, WEIGHT, SCORE = "label", "weight", "score"
BINS = 10_000
log = logging.getLogger("bench.train")


def synthetic_rows(spark: SparkSession, rows: int, features: int, seed: int) -> tuple[DataFrame, FeatureSpec]:
    """`rows` rows of `features` uniform features (f4 often missing) with a rare label planted in a
    non-linear mix of a few of them; 20% of rows (by hash) are test rows."""
    columns = [F.rand(seed + i).alias(f"f{i}") for i in range(features)]
    data = spark.range(rows).select("id", *columns)
    data = data.withColumn("f4", F.when(F.rand(seed + 99) < 0.3, None).otherwise(F.col("f4")))
    logit = (-7.5 + 3 * F.col("f0") + 2 * (F.col("f1") > 0.8).cast("double") + 3 * F.col("f2") * F.col("f3")
             + F.coalesce(F.col("f4"), F.lit(0.9)))
    data = data.select(
        "*",
        (F.rand(seed + 1000) < 1 / (1 + F.exp(-logit))).cast("int").alias(LABEL),
        F.when(F.pmod(F.xxhash64("id"), F.lit(10)) < 2, "test").otherwise("train").alias(SPLIT_COL),
    )
    names = [f"f{i}" for i in range(features)]
    return data, FeatureSpec(names, {n: (None if n == "f4" else 0.0) for n in names})


def panel_rows(spark: SparkSession, conf, lake_dir: str, horizon: int) -> tuple[DataFrame, FeatureSpec]:
    """The train and test rows of a built panel for `horizon`, split as training splits them."""
    panel = delta_io.read(spark, Lake.from_conf(conf.with_overrides(lake_dir=lake_dir)).panel)
    settings = conf["training"]
    spec = catalogue_spec(settings["split"].get("skip_months"))
    rows, windows = split_rows(panel, horizon, spec, settings)
    data, _ = prepare(rows, horizon, windows, spec, settings)
    data = data.withColumnRenamed(label_column(horizon), LABEL)
    return data.filter(F.col(SPLIT_COL) != "valid"), spec


def _auc_pr(histogram: pd.DataFrame) -> float:
    return metrics.average_precision(metrics.curve(histogram, BINS))


def _timed(fit: Callable[[], object]) -> tuple[object, float]:
    start = time.monotonic()
    result = fit()
    return result, time.monotonic() - start


def spark_levers(train: DataFrame, test: DataFrame, spec: FeatureSpec, params: dict, seed: int, max_bins: int,
                 checkpoint_dir: str, only: Sequence[str]) -> dict:
    """Fit time and test AUC-PR of the GBT per lever."""
    cores = train.sparkSession.sparkContext.defaultParallelism
    cached = train.cache()
    keys = ("siren", "period") if "siren" in train.columns else ("id",)  # a panel's rows, or synthetic ones
    cached.count()
    levers = {
        "plain": (train, {}),
        "cached": (cached, {}),
        "bins_32": (cached, {"max_bins": 32}),
        "bins_256": (cached, {"max_bins": 256}),
        "partitions_x4": (cached.repartition(4 * cores).cache(), {}),
        "negatives_25pct": (cached.transform(downsample_negatives, LABEL, 0.25, seed, WEIGHT, keys).cache(), {}),
        "checkpoint_10": (cached, {"checkpoint": 10}),
    }
    train.sparkSession.sparkContext.setCheckpointDir(checkpoint_dir)
    # A short fit first, so the JVM's warm-up is not charged to the first lever.
    gbt_pipeline(spec.names, spec.fill_values, {**params, "max_iter": 2}, LABEL, WEIGHT, seed).fit(cached)
    results = {}
    for name, (rows, options) in levers.items():
        if only and name not in only:
            continue
        pipeline = gbt_pipeline(spec.names, spec.fill_values, params, LABEL, WEIGHT, seed,
                                max_bins=options.get("max_bins", max_bins))
        if "checkpoint" in options:
            pipeline.getStages()[-1].setCheckpointInterval(options["checkpoint"]).setCacheNodeIds(True)
        model, seconds = _timed(lambda: pipeline.fit(rows))
        scored = model.transform(test).transform(with_positive_probability, SCORE)
        auc_pr = _auc_pr(metrics.score_histogram(scored, SCORE, LABEL, BINS))
        results[name] = {"seconds": round(seconds, 1), "test_auc_pr": round(auc_pr, 4),
                         "train_rows": rows.count()}
        log.info("spark %s: %s", name, results[name])
    return results


def lightgbm_fit(train: DataFrame, test: DataFrame, spec: FeatureSpec, params: dict, folder: Path) -> dict:
    """LightGBM on the same rows and weights (nulls left to LightGBM's own missing-value handling)."""
    columns = [*spec.names, LABEL, WEIGHT]

    def to_pandas(rows: DataFrame, name: str) -> pd.DataFrame:
        rows.select(*(F.col(c).cast("double") for c in columns)).write.parquet(str(folder / name))
        return pq.read_table(folder / name).to_pandas()

    (train_pdf, test_pdf), transfer = _timed(lambda: (to_pandas(train, "train"), to_pandas(test, "test")))
    model = lightgbm.LGBMClassifier(
        n_estimators=params["max_iter"], max_depth=params["max_depth"], num_leaves=2 ** params["max_depth"],
        learning_rate=params["step_size"], subsample=params.get("subsampling_rate", 1.0), subsample_freq=1,
        n_jobs=os.cpu_count(), verbose=-1,
    )
    _, seconds = _timed(lambda: model.fit(train_pdf[spec.names], train_pdf[LABEL], sample_weight=train_pdf[WEIGHT]))
    scores = model.predict_proba(test_pdf[spec.names])[:, 1]
    histogram = pd.DataFrame({"bin": np.floor(scores * BINS), "rows": 1, "positives": test_pdf[LABEL]})
    return {"seconds": round(seconds, 1), "transfer_seconds": round(transfer, 1),
            "test_auc_pr": round(_auc_pr(histogram), 4), "train_rows": len(train_pdf)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="synthetic rows (the scale)")
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--lake-dir", default=None, help="train on this lake's panel instead of synthetic rows")
    parser.add_argument("--horizon", type=int, default=18)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--positive-weight", default="balanced", help="balanced or a number (training.search)")
    parser.add_argument("--step", type=float, default=0.1)
    parser.add_argument("--levers", nargs="*", default=[], help="only these levers (default: all)")
    parser.add_argument("--conf", default=None)
    parser.add_argument("--name", default="train", help="results file bench/results/<name>.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    conf = load_config(args.conf)
    spark = build_session(conf, app_name="bench_train")
    seed = conf["training"]["seed"]
    if args.lake_dir:
        rows, spec = panel_rows(spark, conf, args.lake_dir, args.horizon)
        scale = {"panel": str(Path(args.lake_dir) / "panel"), "horizon": args.horizon}
    else:
        rows, spec = synthetic_rows(spark, args.rows, args.features, seed)
        scale = {"rows": args.rows}
    counts = {r[SPLIT_COL]: (r["rows"], r["positives"]) for r in
              rows.groupBy(SPLIT_COL).agg(F.count("*").alias("rows"), F.sum(LABEL).alias("positives")).collect()}
    weight = positive_weight(args.positive_weight, *counts["train"])
    rows = add_class_weight(rows, LABEL, weight, WEIGHT)
    train, test = (rows.filter(F.col(SPLIT_COL) == split).drop(SPLIT_COL) for split in ("train", "test"))
    params = {"max_depth": args.depth, "max_iter": args.iterations, "step_size": args.step}

    folder = Path(tempfile.mkdtemp(prefix="bench_train_"))
    try:
        spark_results = spark_levers(train, test, spec, params, seed, conf["training"]["max_bins"],
                                     str(folder / "checkpoints"), args.levers)
        lgbm = lightgbm_fit(train, test, spec, params, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    reference = spark_results.get("cached") or next(iter(spark_results.values()))
    figures = {
        **scale,
        "features": len(spec.names),
        "train_rows": counts["train"][0], "train_positives": counts["train"][1],
        "test_rows": counts["test"][0], "test_positives": counts["test"][1],
        "trees": params, "max_bins": conf["training"]["max_bins"], "positive_weight": weight,
        "cores": spark.sparkContext.defaultParallelism,
        "spark": spark_results,
        "lightgbm": lgbm,
        "spark_over_lightgbm_seconds": round(reference["seconds"] / max(lgbm["seconds"], 0.01), 1),
    }
    report(args.name, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
