"""The model pipeline: catalogue-driven null fill inside the model, assembler inputs, grid."""
import math

import pytest
from chispa import assert_df_equality
from pyspark.ml.classification import GBTClassificationModel
from pyspark.ml.feature import SQLTransformer
from pyspark.sql import Observation
from pyspark.sql import functions as F

from training.model import (
    CALIBRATED_COL,
    assembler_inputs,
    calibrated,
    fill_statement,
    gbt_stage,
    gbt_pipeline,
    grid_candidates,
    model_inputs,
    pipeline_features,
    source_feature,
    with_positive_probability,
)

FILL = {"debt": 0.0, "paydex": None, "age": -1.0}


def test_fill_replaces_nulls_and_nan_and_adds_indicators_for_kept_missing(spark):
    panel = spark.createDataFrame(
        [("000000001", None, 12, float("nan")), ("000000002", 5.0, None, 3.0)],
        "siren string, debt double, paydex int, age double",
    )
    expected = spark.createDataFrame(
        [("000000001", 0.0, 0.0, 12.0, -1.0), ("000000002", 5.0, 1.0, 0.0, 3.0)],
        "siren string, debt double, paydex_missing double, paydex double, age double",
    )
    filled = SQLTransformer(statement=fill_statement(["debt", "paydex", "age"], FILL)).transform(panel)
    assert_df_equality(filled, expected, ignore_nullable=True)


def test_model_inputs_are_the_features_in_order_then_their_indicators():
    features = ["debt", "paydex", "age"]
    assert model_inputs(features, FILL) == ["debt", "paydex", "age", "paydex_missing"]
    assert [source_feature(c, features) for c in model_inputs(features, FILL)] == features + ["paydex"]
    with pytest.raises(KeyError):
        source_feature("other_missing", features)


def test_grid_candidates_cover_every_combination():
    grid = {"max_iter": [5], "max_depth": [2, 3], "step_size": [0.1, 0.3]}
    candidates = grid_candidates(grid)
    assert len(candidates) == 4
    assert {(c["max_depth"], c["step_size"]) for c in candidates} == {(2, 0.1), (2, 0.3), (3, 0.1), (3, 0.3)}
    with pytest.raises(ValueError, match="unknown GBT parameters"):
        gbt_pipeline(["debt"], FILL, {"depth": 3}, "label", "weight", seed=1)


def test_fitted_pipeline_fills_assembles_and_ends_with_the_gbt(spark):
    rows = [(float(i % 10), None if i % 3 else float(i), float(i % 7), int(i % 10 >= 7), 1.0) for i in range(60)]
    train = spark.createDataFrame(rows, "debt double, paydex double, age double, label int, weight double")
    model = gbt_pipeline(["debt", "paydex", "age"], FILL, {"max_depth": 2, "max_iter": 3}, "label", "weight", 1).fit(train)
    assert isinstance(model.stages[-1], GBTClassificationModel)
    assert model.stages[-2].getInputCols() == ["debt", "paydex", "age", "paydex_missing"]
    assert pipeline_features(model) == ["debt", "paydex", "age"]
    scored = model.transform(train.limit(3)).collect()
    assert all(not math.isnan(r["probability"][1]) for r in scored)


def test_calibration_brings_weighted_probabilities_back_to_observed_rates(spark):
    # Positives weighted 10: the trees' probabilities overstate the 30% failure rate.
    rows = [(float(i % 10), None, float(i % 7), int(i % 10 >= 7), 10.0 if i % 10 >= 7 else 1.0) for i in range(200)]
    frame = spark.createDataFrame(rows, "debt double, paydex double, age double, label int, weight double")
    raw = gbt_pipeline(["debt", "paydex", "age"], FILL, {"max_depth": 2, "max_iter": 3}, "label", "weight", 1).fit(frame)
    model = calibrated(raw, frame, "label")
    assert gbt_stage(model) is raw.stages[-1]
    assert assembler_inputs(model) == ["debt", "paydex", "age", "paydex_missing"]

    scored = model.transform(frame).transform(with_positive_probability, "p").toPandas()
    raw_p = scored["probability"].map(lambda v: v[1])
    assert raw_p.mean() - 0.3 > 0.02
    # A logistic regression with an intercept matches the mean of what it is fitted on...
    assert scored["p"].mean() == pytest.approx(0.3, abs=1e-4)
    assert scored["p"].between(0, 1).all()
    assert (scored["p"] == scored[CALIBRATED_COL].map(lambda v: v[1])).all()
    # ...and, increasing in the trees' log-odds, keeps their ranking.
    assert (scored["p"].rank(method="dense") == raw_p.rank(method="dense")).all()


def test_logistic_stages_transform_after_the_session_used_an_observation(spark):
    # Ingestion counts its files with an Observation in the same session as training (the pipeline).
    frame = spark.createDataFrame([(float(i % 10), int(i % 10 >= 7)) for i in range(60)], "debt double, label int")
    frame.observe(Observation(), F.count(F.lit(1)).alias("rows")).count()
    raw = gbt_pipeline(["debt"], FILL, {"max_depth": 2, "max_iter": 3}, "label", "weight", 1).fit(
        frame.withColumn("weight", F.lit(1.0)))
    assert len(calibrated(raw, frame, "label").transform(frame).collect()) == 60
