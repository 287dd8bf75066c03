"""A tiny GBT pipeline like the registered models (fill, assemble, GBT), trained once per test run."""
from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Iterator

import mlflow
import mlflow.spark
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.config import Config
from jobs.tracking import configure_mlflow
from training.model import calibrated, gbt_pipeline
from training.registry import model_name, promote, register_challenger
from training.trainer import pip_requirements

# Catalogue features, so that reasons are worded as the catalogue says.
FEATURE_THEMES = {
    "debt_over_contributions": "social_debt",
    "ap_used_per_employee": "partial_activity",
    "headcount_change_12m": "headcount",
    "margin_rate": "finances",
}
FILL_VALUES = {"debt_over_contributions": 0.0, "ap_used_per_employee": 0.0, "headcount_change_12m": None,
               "margin_rate": None}


def tiny_features(spark: SparkSession, rows: int, seed: int) -> DataFrame:
    """`rows` firms with random features (some missing) and a label that rises with debt and job losses."""
    debt, ap, change, margin = (F.rand(seed + i) for i in range(4))
    return spark.range(rows).select(
        F.lpad(F.col("id").cast("string"), 9, "0").alias("siren"),
        (debt * 4).alias("debt_over_contributions"),
        (ap * 20).alias("ap_used_per_employee"),
        F.when(change < 0.15, None).otherwise(change - 0.5).alias("headcount_change_12m"),
        F.when(margin < 0.3, None).otherwise(margin * 20).alias("margin_rate"),
    ).withColumn(
        "label",
        ((F.col("debt_over_contributions") - F.coalesce("headcount_change_12m", F.lit(0.0)) * 3
          + F.rand(seed + 9) * 2) > 3.5)
        .cast("double"),
    )


@functools.lru_cache(maxsize=1)
def tiny_model(spark: SparkSession) -> PipelineModel:
    """A fitted pipeline (fill, assembler, 6 trees of depth 3) on 300 tiny firms."""
    train = tiny_features(spark, 300, seed=1).withColumn("weight", F.lit(1.0))
    params = {"max_depth": 3, "max_iter": 6, "step_size": 0.3}
    return gbt_pipeline(list(FEATURE_THEMES), FILL_VALUES, params, "label", "weight", seed=7).fit(train)


@functools.lru_cache(maxsize=1)
def tiny_calibrated_model(spark: SparkSession) -> PipelineModel:
    """`tiny_model` calibrated on 300 other firms, as training registers its models."""
    return calibrated(tiny_model(spark), tiny_features(spark, 300, seed=2), "label")


def tiny_panel_month(spark: SparkSession, period, rows: int = 60, seed: int = 11) -> DataFrame:
    """Panel-like rows of one month: the tiny features plus identity columns, SIRENs below
    000000030 in region 27 and the others in region 11, all live (not after a failure), and the
    earlier values the reasons' changes read (the debt ratio 3 months before, the margin rate of
    the previous balance sheet)."""
    return tiny_features(spark, rows, seed).drop("label").select(
        "*",
        (F.col("debt_over_contributions") * 0.5).alias("debt_over_contributions_lag_3m"),
        (F.col("margin_rate") + 2).alias("margin_rate_prev_year"),
        F.lit(period).alias("period"),
        F.when(F.col("siren") < "000000030", "27").otherwise("11").alias("region"),
        F.lit("21").alias("departement"), F.concat(F.lit("SA "), "siren").alias("name"), F.lit("DIJON").alias("town"),
        F.lit("25.62A").alias("naf"), F.lit(15).alias("headcount"),
        F.lit(False).alias("after_failure"), F.lit(None).cast("date").alias("failure_date"),
    )


@contextlib.contextmanager
def tiny_champions(conf: Config, spark: SparkSession, root: Path, threshold_high: float = 0.5,
                   threshold_moderate: float = 0.2) -> Iterator[str]:
    """An MLflow store under `root` where the tiny model is the champion of every horizon of conf,
    logged as training logs it (params, training_spec.json); yields the tracking URI and restores
    MLflow's global URIs afterwards."""
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = configure_mlflow(Config({"mlflow": {**conf["mlflow"], "tracking_uri": uri}}, root))
    with mlflow.start_run() as run:
        mlflow.log_params({"threshold_high": threshold_high, "threshold_moderate": threshold_moderate})
        mlflow.log_dict({"features": {"names": list(FEATURE_THEMES), "themes": FEATURE_THEMES}}, "training_spec.json")
        info = mlflow.spark.log_model(tiny_calibrated_model(spark), artifact_path="model",
                                      pip_requirements=pip_requirements())
    for horizon in conf["horizons"]:
        version = register_challenger(client, model_name(horizon), info.model_uri, run.info.run_id)
        promote(client, model_name(horizon), version.version)
    try:
        yield uri
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
