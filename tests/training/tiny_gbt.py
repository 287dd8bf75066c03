"""A tiny GBT pipeline like the registered models (fill, assemble, GBT), trained once per test run."""
from __future__ import annotations

import functools

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from training.model import gbt_pipeline

FEATURE_THEMES = {
    "debt_ratio": "social_debt",
    "ap_hours_per_employee": "partial_activity",
    "headcount_change_12m": "headcount",
    "margin_rate": "finances",
}
FILL_VALUES = {"debt_ratio": 0.0, "ap_hours_per_employee": 0.0, "headcount_change_12m": None, "margin_rate": None}


def tiny_features(spark: SparkSession, rows: int, seed: int) -> DataFrame:
    """`rows` firms with random features (some missing) and a label that rises with debt and job losses."""
    debt, ap, change, margin = (F.rand(seed + i) for i in range(4))
    return spark.range(rows).select(
        F.lpad(F.col("id").cast("string"), 9, "0").alias("siren"),
        (debt * 4).alias("debt_ratio"),
        (ap * 20).alias("ap_hours_per_employee"),
        F.when(change < 0.15, None).otherwise(change - 0.5).alias("headcount_change_12m"),
        F.when(margin < 0.3, None).otherwise(margin * 0.2).alias("margin_rate"),
    ).withColumn(
        "label",
        ((F.col("debt_ratio") - F.coalesce("headcount_change_12m", F.lit(0.0)) * 3 + F.rand(seed + 9) * 2) > 3.5)
        .cast("double"),
    )


@functools.lru_cache(maxsize=1)
def tiny_model(spark: SparkSession) -> PipelineModel:
    """A fitted pipeline (fill, assembler, 6 trees of depth 3) on 300 tiny firms."""
    train = tiny_features(spark, 300, seed=1).withColumn("weight", F.lit(1.0))
    params = {"max_depth": 3, "max_iter": 6, "step_size": 0.3}
    return gbt_pipeline(list(FEATURE_THEMES), FILL_VALUES, params, "label", "weight", seed=7).fit(train)
