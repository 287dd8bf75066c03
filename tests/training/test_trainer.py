"""Training a horizon end to end on a tiny panel: what the run records, registration, promotion."""
import json

import mlflow
import mlflow.spark
import pytest
from pyspark.ml.classification import GBTClassificationModel, LogisticRegressionModel
from pyspark.ml.feature import VectorSlicer

from tests.training.tiny_panel import FEATURES, FILL_VALUES, THEMES, tiny_panel, tiny_settings
from training.model import CALIBRATED_COL, with_positive_probability
from training.profile import MISSING_BIN, from_json
from training.registry import CHALLENGER, CHAMPION, version_by_alias
from training.trainer import FeatureSpec, TrainingContext, candidate_weight, train_horizon

STRONG = FeatureSpec(FEATURES, FILL_VALUES, THEMES)
WEAK = FeatureSpec(["noise"], {"noise": 0.0}, {"noise": "profile"})  # no signal at all


@pytest.fixture(scope="module")
def trained(spark, store, conf):
    """A weak first model, then a strong challenger: two versions."""
    panel = tiny_panel(spark).cache()  # local rows: computed once, not per Spark job
    settings = tiny_settings(conf["training"])

    def train(spec):
        return train_horizon(panel, 12, spec, settings, store, TrainingContext(7, "abc123", {"training": settings}, panel_path="lake/panel"))

    return train(WEAK), train(STRONG)


def test_first_model_is_champion_and_a_better_challenger_replaces_it(store, trained):
    weak, strong = trained
    assert weak.promoted and strong.promoted
    assert strong.test_auc_pr > weak.test_auc_pr
    assert not weak.beats_baselines and strong.beats_baselines
    assert version_by_alias(store, "failure_12m", CHAMPION).version == int(strong.version)
    assert version_by_alias(store, "failure_12m", CHALLENGER).version == int(strong.version)
    # The challenger was compared with the champion of the time, on its own test rows.
    assert mlflow.get_run(strong.run_id).data.metrics["champion_test_auc_pr"] == weak.test_auc_pr


def test_run_records_data_version_thresholds_metrics_baselines_and_plots(store, trained):
    _, strong = trained
    run = mlflow.get_run(strong.run_id)
    params, metrics = run.data.params, run.data.metrics
    assert params["horizon"] == "12" and params["panel_version"] == "7" and params["git_commit"] == "abc123"
    assert 0 < float(params["threshold_high"]) <= 1 and 0 < float(params["threshold_moderate"]) <= 1
    for split, counts in strong.counts.items():
        assert metrics[f"{split}_rows"] == counts["rows"] > 0
        assert metrics[f"{split}_positives"] == counts["positives"] > 0
    assert metrics["test_auc_pr"] == strong.test_auc_pr
    for key in ("test_roc_auc", "test_brier", "test_precision_high", "test_recall_moderate", "test_precision_top5pct",
                "baseline_rule_test_auc_pr", "baseline_logistic_test_auc_pr", "training_seconds"):
        assert key in metrics
    assert strong.baseline_auc_pr == {
        "rule": metrics["baseline_rule_test_auc_pr"], "logistic": metrics["baseline_logistic_test_auc_pr"]
    }
    assert run.data.tags["beats_baselines"] == str(strong.beats_baselines).lower()
    for baseline in ("logistic", "rule"):  # the bootstrap interval of the lead brackets its median
        low, mid, high = (metrics[f"test_auc_pr_lift_over_{baseline}_p{q}"] for q in ("05", "50", "95"))
        assert low <= mid <= high
    assert any(key.startswith("test_region_") for key in metrics)
    assert 0 <= metrics["test_ece"] <= 1 and 0 <= metrics["test_brier"] <= 1
    assert params["calibration"] == "platt on validation"
    # The panel trained on, as the runs table's Dataset: a Delta source at the version trained on.
    [panel_input] = run.inputs.dataset_inputs
    assert panel_input.dataset.name == "panel@v7" and panel_input.dataset.source_type == "delta_table"
    assert json.loads(panel_input.dataset.source) == {"path": "lake/panel", "delta_table_version": 7}
    assert json.loads(panel_input.dataset.profile)["approx_count"] == sum(c["rows"] for c in strong.counts.values())

    artifacts = {a.path for a in store.list_artifacts(run.info.run_id)}
    assert {"model", "plots", "config.json", "training_spec.json", "region_metrics.json"} <= artifacts
    plots = {a.path for a in store.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/pr_curve.png", "plots/roc_curve.png", "plots/reliability.png", "plots/lead_time.png",
            "plots/importance_features.png", "plots/importance_themes.png"} <= plots

    candidates = mlflow.search_runs(
        experiment_ids=[run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert len(candidates) == 2 and candidates["metrics.valid_auc_pr"].notna().all()
    # The grid's class weights: none, and balanced (negatives / positives of the training split).
    train = strong.counts["train"]
    balanced = (train["rows"] - train["positives"]) / train["positives"]
    assert sorted(candidates["params.positive_weight"]) == ["1.0", "balanced"]
    assert sorted(candidates["params.positive_weight_value"].astype(float)) == [1.0, pytest.approx(balanced)]
    assert float(params["positive_weight"]) in (1.0, pytest.approx(balanced))
    assert params["negative_fraction"] == "0.25"


def test_candidate_weight_resolves_balanced_and_requires_the_setting():
    counts = {"rows": 110, "positives": 10}
    assert candidate_weight({"positive_weight": "balanced", "max_depth": 3}, counts) == 10.0
    assert candidate_weight({"positive_weight": 2, "max_depth": 3}, counts) == 2.0
    with pytest.raises(ValueError, match="training.search needs a positive_weight"):
        candidate_weight({"max_depth": 3}, counts)


def test_registered_model_is_the_pipeline_scoring_expects(spark, trained):
    _, strong = trained
    model = mlflow.spark.load_model(f"models:/failure_12m/{strong.version}")
    # The fill, the assembler, the trees, then the calibration: loading gives calibrated probabilities.
    assert [type(stage) for stage in model.stages[2:]] == [GBTClassificationModel, VectorSlicer, LogisticRegressionModel]
    assert model.stages[1].getInputCols() == FEATURES + ["paydex_days_missing"]
    rows = tiny_panel(spark, firms=2, months=2).select(*FEATURES)
    scored = model.transform(rows).transform(with_positive_probability, "p").toPandas()
    assert len(scored) == 4 and scored["p"].between(0, 1).all()
    assert (scored["p"] == scored[CALIBRATED_COL].map(lambda v: v[1])).all()


def test_first_model_below_the_baselines_is_champion_marked_below_baselines(store, trained):
    weak, strong = trained
    assert mlflow.get_run(weak.run_id).data.tags["below_baselines"] == "true"
    assert store.get_model_version("failure_12m", weak.version).tags["below_baselines"] == "true"
    assert mlflow.get_run(strong.run_id).data.tags["below_baselines"] == "false"


def test_experiment_is_tagged_for_model_development(store, trained):
    experiment = store.get_experiment(mlflow.get_run(trained[1].run_id).info.experiment_id)
    assert experiment.tags.get("mlflow.experimentKind") == "custom_model_development"


def test_run_logs_the_drift_reference_of_the_panel_own_values(store, trained):
    _, strong = trained
    reference = from_json(mlflow.artifacts.load_dict(f"runs:/{strong.run_id}/drift_reference.json"))
    assert sorted(reference["features"]) == sorted(FEATURES)
    assert reference["rows"] == strong.counts["train"]["rows"]  # every training row: fewer than the cap
    # Missing in the panel, filled by the pipeline: profiled as missing, as a scored month shows it.
    assert reference["features"]["paydex_days"]["counts"][MISSING_BIN] > 0
    importance = {name: f["importance"] for name, f in reference["features"].items()}
    assert sum(importance.values()) == pytest.approx(1.0) and importance["debt_ratio"] > importance["noise"]
    assert sum(reference["score"]["counts"].values()) == reference["rows"]
