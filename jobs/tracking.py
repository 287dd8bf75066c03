"""MLflow's global state, set from conf: tracking URI, registry URI, experiment."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import mlflow
from mlflow.tracking import MlflowClient

from jobs.config import Config

# Tells the MLflow UI that the experiment holds training runs, so it opens on them (not on traces).
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}


def tracking_uri(conf: Config) -> str:
    """The tracking URI of conf, with a relative `sqlite:///` path resolved against the project root."""
    uri = conf["mlflow"]["tracking_uri"]
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        db_path = conf.root / uri[len(prefix):]
        db_path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(db_path)
    return uri


def configure_mlflow(conf: Config) -> MlflowClient:
    """Point MLflow at conf's store, create the experiment if needed (tagged EXPERIMENT_KIND), and
    return a client."""
    uri = tracking_uri(conf)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    name = conf["mlflow"]["experiment"]
    if mlflow.get_experiment_by_name(name) is None:
        if urlparse(uri).scheme in ("http", "https"):
            mlflow.create_experiment(name)  # a tracking server stores and serves the artifacts itself
        else:
            artifacts = Path(conf["mlflow"]["artifact_location"])
            artifacts = artifacts if artifacts.is_absolute() else conf.root / artifacts
            artifacts.mkdir(parents=True, exist_ok=True)
            mlflow.create_experiment(name, artifact_location=artifacts.as_uri())
    experiment = mlflow.set_experiment(name)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for key, value in EXPERIMENT_KIND.items():
        if experiment.tags.get(key) != value:
            client.set_experiment_tag(experiment.experiment_id, key, value)
    return client
