"""The promotion rule and the registry's aliases (MLflow in a temporary SQLite store)."""
import math

from mlflow.tracking import MlflowClient

from training.registry import (
    CHALLENGER,
    CHAMPION,
    model_name,
    promote,
    register_challenger,
    should_promote,
    version_by_alias,
)


def test_challenger_is_promoted_only_when_strictly_better():
    assert should_promote(0.20, None)  # first model of a name
    assert should_promote(0.20, math.nan)  # the champion could not be evaluated
    assert should_promote(0.21, 0.20)
    assert not should_promote(0.20, 0.20)
    assert not should_promote(0.19, 0.20)


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
