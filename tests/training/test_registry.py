"""The promotion rule and the registry's aliases (MLflow in a temporary SQLite store)."""
import math

from mlflow.tracking import MlflowClient

from training.registry import (
    CHALLENGER,
    CHAMPION,
    model_name,
    promote,
    register_challenger,
    below_baselines_warning,
    promotion_decision,
    version_by_alias,
)


def test_gate_promotes_only_above_champion_and_every_baseline():
    baselines = {"rule": 0.10, "logistic": 0.15}
    assert promotion_decision(0.21, baselines, 0.20).promoted
    assert not promotion_decision(0.20, baselines, 0.20).promoted  # strictly better
    assert not promotion_decision(0.19, baselines, 0.20).promoted
    blocked = promotion_decision(0.30, {"rule": 0.10, "logistic": 0.35}, 0.20)  # above the champion only
    assert not blocked.promoted and "logistic" in blocked.reason
    assert not promotion_decision(0.15, baselines, 0.10).promoted  # a tie with a baseline is not a win


def test_first_model_is_promoted_and_marked_when_below_the_baselines():
    baselines = {"rule": 0.10, "logistic": 0.15}
    for champion in (None, math.nan):  # none yet, or one that could not be evaluated
        good = promotion_decision(0.20, baselines, champion)
        assert good.promoted and not good.below_baselines
        weak = promotion_decision(0.12, baselines, champion)
        assert weak.promoted and weak.below_baselines and "logistic" in weak.reason and "rule" not in weak.reason


def test_register_sets_challenger_and_promote_moves_champion(tmp_path):
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    experiment = client.create_experiment("test", artifact_location=(tmp_path / "artifacts").as_uri())
    name = model_name(12)
    assert name == "failure_12m"

    runs = [client.create_run(experiment) for _ in range(2)]
    first = register_challenger(client, name, f"{runs[0].info.artifact_uri}/model", runs[0].info.run_id)
    assert version_by_alias(client, name, CHAMPION) is None
    assert version_by_alias(client, name, CHALLENGER).version == first.version
    promote(client, name, first.version)

    second = register_challenger(client, name, f"{runs[1].info.artifact_uri}/model", runs[1].info.run_id)
    assert version_by_alias(client, name, CHALLENGER).version == second.version
    assert version_by_alias(client, name, CHAMPION).version == first.version
    promote(client, name, second.version)
    assert version_by_alias(client, name, CHAMPION).run_id == runs[1].info.run_id


def test_a_version_promoted_below_the_baselines_is_warned_about(tmp_path):
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    experiment = client.create_experiment("test", artifact_location=(tmp_path / "artifacts").as_uri())
    run = client.create_run(experiment)
    version = register_challenger(client, "failure_18m", f"{run.info.artifact_uri}/model", run.info.run_id)
    assert below_baselines_warning(client.get_model_version("failure_18m", version.version)) is None
    client.set_model_version_tag("failure_18m", version.version, "below_baselines", "true")
    warning = below_baselines_warning(client.get_model_version("failure_18m", version.version))
    assert warning.startswith(f"failure_18m version {version.version} is champion although it does not beat")
