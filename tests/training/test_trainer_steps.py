"""The steps of a horizon's training, each on its own, on the tiny panel's 12-month data."""
import dataclasses

import mlflow
import pytest
from pyspark.sql import functions as F

from tests.training.tiny_panel import FEATURES, FILL_VALUES, THEMES, tiny_panel, tiny_settings
from training.model import assembler_inputs, gbt_pipeline
from training.registry import CHALLENGER, CHAMPION, version_by_alias
from training.trainer import (
    SPLIT_COL,
    WEIGHT_COL,
    FeatureSpec,
    candidate_weight,
    evaluate_against_baselines,
    register_and_promote,
    search,
    split_and_sample,
)

SPEC = FeatureSpec(FEATURES, FILL_VALUES, THEMES)
WEAK = FeatureSpec(["noise"], {"noise": 0.0}, {"noise": "profile"})  # no signal at all


@pytest.fixture(scope="module")
def settings(conf):
    return tiny_settings(conf["training"])


@pytest.fixture(scope="module")
def data(spark, settings):
    """The tiny panel's 12-month data; its cached frames are released afterwards."""
    panel = tiny_panel(spark).cache()  # local rows: computed once, not per Spark job
    prepared = split_and_sample(panel, 12, SPEC, settings)
    yield prepared
    prepared.unpersist()
    panel.unpersist()


@pytest.fixture(scope="module")
def searched(store, data, settings):
    """The search on the tiny data, in a run of its own: (run, result)."""
    with mlflow.start_run(run_name="search") as run:
        result = search(data, SPEC, settings)
    return mlflow.get_run(run.info.run_id), result


def _persistent_rdds(spark):
    return set(spark.sparkContext._jsc.getPersistentRDDs().keys())


@pytest.fixture(scope="module")
def evaluated(spark, store, data, searched, settings):
    """The evaluation of the searched GBT, in a run of its own: (run, evaluation, the RDDs it left cached)."""
    before = _persistent_rdds(spark)
    with mlflow.start_run(run_name="evaluate") as run:
        evaluation = evaluate_against_baselines(data, searched[1], SPEC, settings)
    return mlflow.get_run(run.info.run_id), evaluation, _persistent_rdds(spark) - before


def _firms(frame):
    return {row.siren for row in frame.select("siren").distinct().collect()}


def test_split_and_sample_keeps_firms_apart_and_counts_its_frames(data, settings):
    train, valid, test = _firms(data.train), _firms(data.valid), _firms(data.test)
    assert train and valid and test
    assert not train & valid and not train & test and not valid & test
    assert data.windows.horizon == data.horizon == 12 and data.label == "failure_12m"
    for split, frame in (("valid", data.valid), ("test", data.test)):
        assert data.counts[split]["rows"] == frame.count()
        assert data.counts[split]["positives"] == frame.filter(F.col(data.label) == 1).count()
    assert data.counts["train"]["rows"] == data.data.filter(F.col(SPLIT_COL) == "train").count()
    assert data.rows.count() == data.data.count() == sum(c["rows"] for c in data.counts.values())

    # The sample: every positive of the training split at weight 1, a share of its negatives weighted up.
    fraction = settings["negative_fraction"]
    sample = {row[data.label]: row for row in data.train.groupBy(data.label).agg(
        F.count(F.lit(1)).alias("rows"), F.min(WEIGHT_COL).alias("low"), F.max(WEIGHT_COL).alias("high")
    ).collect()}
    positives, negatives = sample[1], sample[0]
    assert positives["rows"] == data.counts["train"]["positives"] and positives["low"] == positives["high"] == 1.0
    assert 0 < negatives["rows"] < data.counts["train"]["rows"] - data.counts["train"]["positives"]
    assert negatives["low"] == negatives["high"] == 1 / fraction
    assert data.data.is_cached and data.train.is_cached


def test_search_keeps_the_best_candidate_and_logs_its_choice(searched, data):
    run, result = searched
    candidates = mlflow.search_runs(
        experiment_ids=[run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert len(candidates) == 2  # the tiny grid: positive_weight 1 and balanced
    assert result.valid_auc_pr == candidates["metrics.valid_auc_pr"].max()
    assert result.positive_weight == candidate_weight(result.params, data.counts["train"])
    assert sorted(result.thresholds) == ["high", "moderate"] and all(0 < t <= 1 for t in result.thresholds.values())
    assert assembler_inputs(result.model) == FEATURES + ["paydex_days_missing"]

    params, metrics = run.data.params, run.data.metrics
    assert params["gbt_positive_weight"] == str(result.params["positive_weight"])
    assert float(params["positive_weight"]) == result.positive_weight
    assert {name: float(params[f"threshold_{name}"]) for name in result.thresholds} == result.thresholds
    assert metrics["valid_auc_pr"] == result.valid_auc_pr and metrics["training_seconds"] == result.seconds > 0


def test_evaluation_reports_the_baselines_and_whether_the_gbt_beats_them(evaluated, data):
    run, evaluation, left_cached = evaluated
    assert sorted(evaluation.baselines) == ["logistic", "rule"]
    assert evaluation.baseline_auc_pr == {name: values["auc_pr"] for name, values in evaluation.baselines.items()}
    assert evaluation.beats_baselines == all(evaluation.test_auc_pr > v for v in evaluation.baseline_auc_pr.values())
    assert evaluation.beats_baselines  # the tiny panel's planted signal is beyond the rule and the logistic
    assert sorted(evaluation.curves) == ["GBT", "logistic", "social debt rule"]
    assert evaluation.histogram["rows"].sum() == evaluation.summary["rows"] == data.counts["test"]["rows"]
    assert not left_cached  # the scored test rows it cached are released

    metrics, tags = run.data.metrics, run.data.tags
    assert metrics["test_auc_pr"] == evaluation.test_auc_pr
    logged_baselines = {name: metrics[f"baseline_{name}_test_auc_pr"] for name in evaluation.baselines}
    assert logged_baselines == evaluation.baseline_auc_pr
    assert {key: metrics[f"test_{key}"] for key in evaluation.lifts} == evaluation.lifts
    assert tags["beats_baselines"] == "true"
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "plots")}
    assert "plots/pr_curve.png" in plots and "plots/lead_time.png" in plots


def _scored(evaluation, auc_pr, baseline_auc_pr):
    """`evaluation` as if the model had test AUC-PR `auc_pr` and the baselines `baseline_auc_pr`."""
    return dataclasses.replace(
        evaluation, summary={**evaluation.summary, "auc_pr": auc_pr},
        baselines={name: {**values, "auc_pr": baseline_auc_pr} for name, values in evaluation.baselines.items()},
    )


def test_promotion_gate_needs_the_champion_and_both_baselines_beaten(store, data, searched, evaluated, settings):
    weak = gbt_pipeline(
        WEAK.names, WEAK.fill_values, {"max_depth": 2, "max_iter": 3}, data.label, WEIGHT_COL, settings["seed"]
    ).fit(data.train)
    strong, strong_evaluation = searched[1].model, evaluated[1]
    strong_auc_pr = strong_evaluation.test_auc_pr
    client = mlflow.MlflowClient()

    def register(model, evaluation, spec):
        with mlflow.start_run() as run:
            registration = register_and_promote(store, data, model, evaluation, spec, settings)
        return registration, mlflow.get_run(run.info.run_id).data

    # The first model of a name is promoted although the baselines beat it, and says so.
    first, first_run = register(weak, _scored(strong_evaluation, 0.0, 0.5), WEAK)
    assert first.promoted and first.below_baselines and first.champion_auc_pr is None
    assert first_run.tags["below_baselines"] == "true"
    assert client.get_model_version("failure_12m", first.version).tags["below_baselines"] == "true"

    better, better_run = register(strong, strong_evaluation, SPEC)
    weak_auc_pr = better.champion_auc_pr  # the weak champion, scored on the same test rows
    assert better.promoted and not better.below_baselines and weak_auc_pr < strong_auc_pr
    assert better_run.metrics["champion_test_auc_pr"] == weak_auc_pr
    assert better_run.tags["promoted"] == "true" and better_run.tags["model_version"] == better.version
    assert better_run.tags["below_baselines"] == "false"

    # Above the champion, but a baseline is better on the same rows: not promoted.
    above_champion = _scored(strong_evaluation, strong_auc_pr + 0.01, strong_auc_pr + 0.02)
    unbeaten, unbeaten_run = register(strong, above_champion, SPEC)
    assert not unbeaten.promoted and "baseline" in unbeaten_run.tags["promotion_reason"]

    worse, worse_run = register(weak, _scored(strong_evaluation, weak_auc_pr, 0.0), WEAK)
    assert not worse.promoted and worse.champion_auc_pr == strong_auc_pr
    assert worse_run.tags["promoted"] == "false" and "champion" in worse_run.tags["promotion_reason"]

    assert version_by_alias(store, "failure_12m", CHAMPION).version == int(better.version)
    assert version_by_alias(store, "failure_12m", CHALLENGER).version == int(worse.version)


def test_the_fitted_trees_do_not_depend_on_how_the_panel_falls_into_partitions(spark, data, settings):
    """A local and a cluster run read the same panel in different partitions (their files differ):
    the same rows must give the same model, to the last bit."""
    panel = tiny_panel(spark).repartition(5, "paydex_days").cache()  # the same rows, laid out otherwise
    other = split_and_sample(panel, 12, SPEC, settings)
    trees = {"max_depth": 3, "max_iter": 5, "step_size": 0.3, "subsampling_rate": 1.0}
    label = data.label

    def scores(prepared):
        model = gbt_pipeline(SPEC.names, SPEC.fill_values, trees, label, WEIGHT_COL, settings["seed"],
                             settings["max_bins"], settings["missing_placeholder"]).fit(prepared.train)
        return {row.siren + row.period.isoformat(): row.probability[1]
                for row in model.transform(data.valid).select("siren", "period", "probability").collect()}

    try:
        assert scores(other) == scores(data)
    finally:
        other.unpersist()
        panel.unpersist()
