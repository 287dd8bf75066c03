"""Fixtures shared by the training tests."""
import mlflow
import pytest

from jobs.config import Config
from jobs.tracking import configure_mlflow


@pytest.fixture(scope="module")
def store(tmp_path_factory, conf):
    """An MLflow store in a temporary folder, one per test module; MLflow's global URIs are restored afterwards."""
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    root = tmp_path_factory.mktemp("mlflow")
    client = configure_mlflow(Config({"mlflow": {**conf["mlflow"], "tracking_uri": "sqlite:///mlflow.db"}}, root))
    yield client
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])
