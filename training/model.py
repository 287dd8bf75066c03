"""The Spark ML pipelines: null fill driven by the feature catalogue, assembler, classifier.

Spark's trees have no native handling of missing values, so the fill is explicit and lives inside
the fitted PipelineModel, where scoring applies it identically:
- a feature with a catalogue `fill_value` gets that value where null (or NaN): the value means
  something ("no debt known" is 0);
- a feature with `fill_value` None gets a 0/1 indicator column `<name>_missing`, and its value is
  set to `placeholder` (0 by default): a tree separates "unknown" from any value with one split on
  the indicator, and the logistic baseline gets a coefficient for it, where a sentinel far out of
  range would distort the logistic regression's scaling.
The assembler's inputs are the features in order, then the indicators in the same order.
"""
from __future__ import annotations

import itertools
from typing import Mapping, Sequence

from pyspark.ml import Pipeline, PipelineModel
from pyspark import SparkContext
from pyspark.ml.classification import GBTClassificationModel, GBTClassifier, LogisticRegression, LogisticRegressionModel
from pyspark.ml.feature import SQLTransformer, VectorAssembler, VectorSlicer
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

MISSING_SUFFIX = "_missing"
FEATURES_COL = "features"
PROBABILITY_COL = "probability"
RAW_PREDICTION_COL = "rawPrediction"  # the GBT's [-margin, margin]: log-odds / 2
CALIBRATION_INPUT_COL = "calibration_input"
# The calibrated probabilities (a vector, as a classifier's) a calibrated pipeline ends with.
CALIBRATED_COL = "calibrated_probability"
# Search-grid keys in conf (snake_case) and the GBTClassifier params they set.
GBT_PARAMS = {
    "max_depth": "maxDepth",
    "max_iter": "maxIter",
    "step_size": "stepSize",
    "subsampling_rate": "subsamplingRate",
}


def model_inputs(features: Sequence[str], fill_values: Mapping[str, float | None]) -> list[str]:
    """The assembler's input columns: `features` in order, then `<name>_missing` for those kept missing."""
    return list(features) + [f"{name}{MISSING_SUFFIX}" for name in features if fill_values.get(name) is None]


def source_feature(column: str, features: Sequence[str]) -> str:
    """The feature an assembler input stands for: itself, or the feature of a missing indicator."""
    if column in features:
        return column
    if column.endswith(MISSING_SUFFIX) and column[: -len(MISSING_SUFFIX)] in features:
        return column[: -len(MISSING_SUFFIX)]
    raise KeyError(column)


def gbt_stage(model: PipelineModel) -> GBTClassificationModel:
    """The gradient-boosted trees of a fitted pipeline of this module (calibrated or not)."""
    found = [stage for stage in model.stages if isinstance(stage, GBTClassificationModel)]
    if len(found) != 1:
        raise ValueError(f"expected one GBTClassificationModel in the pipeline, found {len(found)}")
    return found[0]


def assembler_inputs(model: PipelineModel) -> list[str]:
    """The input columns assembled into the GBT's features column, in order."""
    features_col = gbt_stage(model).getFeaturesCol()
    for stage in model.stages:
        if isinstance(stage, VectorAssembler) and stage.getOutputCol() == features_col:
            return list(stage.getInputCols())
    raise ValueError(f"no VectorAssembler writes the GBT's input column {features_col!r}")


def pipeline_features(model: PipelineModel) -> list[str]:
    """The panel columns a fitted pipeline of this module reads: its assembler's inputs without the
    missing indicators it adds itself."""
    assembler = next(stage for stage in model.stages if isinstance(stage, VectorAssembler))
    inputs = assembler.getInputCols()
    return [c for c in inputs if not (c.endswith(MISSING_SUFFIX) and c[: -len(MISSING_SUFFIX)] in inputs)]


def _double(value: float) -> str:
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def fill_statement(features: Sequence[str], fill_values: Mapping[str, float | None], placeholder: float = 0.0) -> str:
    """The SQL of the fill stage: each feature as a double with nulls and NaN filled, plus indicators.

    Columns other than `features` pass through unchanged.
    """
    if not features:
        raise ValueError("no feature to fill: the feature list is empty")
    columns = []
    for name in features:
        value, quoted = fill_values.get(name), f"`{name}`"
        missing = f"({quoted} IS NULL OR isnan(CAST({quoted} AS DOUBLE)))"
        if value is None:
            columns.append(f"CAST({missing} AS DOUBLE) AS `{name}{MISSING_SUFFIX}`")
            value = placeholder
        columns.append(f"CASE WHEN {missing} THEN {_double(value)} ELSE CAST({quoted} AS DOUBLE) END AS {quoted}")
    replaced = ", ".join(f"`{name}`" for name in features)
    return f"SELECT * EXCEPT ({replaced}), {', '.join(columns)} FROM __THIS__"


def _prepare_stages(features: Sequence[str], fill_values: Mapping[str, float | None], placeholder: float) -> list:
    return [
        SQLTransformer(statement=fill_statement(features, fill_values, placeholder)),
        VectorAssembler(inputCols=model_inputs(features, fill_values), outputCol=FEATURES_COL),
    ]


def gbt_pipeline(
    features: Sequence[str],
    fill_values: Mapping[str, float | None],
    params: Mapping[str, float],
    label_col: str,
    weight_col: str,
    seed: int,
    max_bins: int = 32,
    placeholder: float = 0.0,
) -> Pipeline:
    """Fill, assemble, GBTClassifier with `params` (search-grid keys of GBT_PARAMS) and class weights."""
    unknown = set(params) - set(GBT_PARAMS)
    if unknown:
        raise ValueError(f"unknown GBT parameters {sorted(unknown)}; known: {sorted(GBT_PARAMS)}")
    gbt = GBTClassifier(
        featuresCol=FEATURES_COL, labelCol=label_col, weightCol=weight_col, seed=seed, maxBins=max_bins,
        **{GBT_PARAMS[key]: value for key, value in params.items()},
    )
    return Pipeline(stages=[*_prepare_stages(features, fill_values, placeholder), gbt])


def logistic_pipeline(
    features: Sequence[str],
    fill_values: Mapping[str, float | None],
    label_col: str,
    weight_col: str,
    max_iter: int,
    reg_param: float,
    placeholder: float = 0.0,
) -> Pipeline:
    """Fill, assemble, a standardised LogisticRegression with class weights: the linear baseline."""
    logistic = LogisticRegression(
        featuresCol=FEATURES_COL, labelCol=label_col, weightCol=weight_col, maxIter=max_iter, regParam=reg_param
    )
    return Pipeline(stages=[*_prepare_stages(features, fill_values, placeholder), logistic])


def grid_candidates(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of the search grid's values, in a stable order (one dict per candidate)."""
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[key] for key in keys))]


def without_training_summary(model: PipelineModel) -> PipelineModel:
    """`model` with the training summaries of its logistic regressions dropped (in place).

    Spark 4.1 keeps the SparkSession in a LogisticRegressionModel's summary, and the model travels
    in the closures of its transform: once the session has used an Observation (ingestion counts
    its files with one), the session no longer serializes and every transform fails with "Task not
    serializable". The summary is only the fit's diagnostics, which nothing here reads.
    """
    for stage in model.stages:
        if isinstance(stage, LogisticRegressionModel) and stage.hasSummary:
            stage._java_obj.setSummary(SparkContext._active_spark_context._jvm.scala.Option.empty())
    return model


def calibrated(model: PipelineModel, valid: DataFrame, label_col: str) -> PipelineModel:
    """`model` with two more stages: Platt scaling, a logistic regression of the label on the
    trees' log-odds, fitted on `valid` (rows the trees were not fitted on, unweighted, unsampled).

    A class weight w on the positives shifts a GBT's log-odds by about log(w), and keeping a
    fraction f of the negatives (weighted 1/f) leaves it noisier: the regression's intercept and
    slope undo both, and being strictly increasing it keeps the ranking, so AUC-PR and the
    reasons are those of the trees. (An isotonic map fitted on a validation split of a few dozen
    failures ties whole score ranges and costs ranking.) As stages of the pipeline the calibration
    is logged, loaded and applied with the model: no extra step at scoring.
    """
    margin = VectorSlicer(inputCol=RAW_PREDICTION_COL, indices=[1], outputCol=CALIBRATION_INPUT_COL)
    platt = LogisticRegression(
        featuresCol=CALIBRATION_INPUT_COL, labelCol=label_col, probabilityCol=CALIBRATED_COL,
        rawPredictionCol="calibrated_raw_prediction", predictionCol="calibrated_prediction", regParam=0.0,
    )
    scored = margin.transform(model.transform(valid)).withColumn(label_col, F.col(label_col).cast("double"))
    return without_training_summary(PipelineModel(stages=[*model.stages, margin, platt.fit(scored)]))


def with_positive_probability(predictions: DataFrame, output_col: str = "score") -> DataFrame:
    """`predictions` (a pipeline's output) with `output_col`: the probability of the positive
    class, calibrated when the pipeline ends with a calibration (`calibrated`)."""
    if CALIBRATED_COL in predictions.columns:
        return predictions.withColumn(output_col, vector_to_array(F.col(CALIBRATED_COL))[1])
    return predictions.withColumn(output_col, vector_to_array(F.col(PROBABILITY_COL))[1])
