"""The model registry flow: a new model is registered as `challenger` and becomes `champion` only
when it beats the current champion on the same test rows (the first model of a name becomes champion)."""
from __future__ import annotations

import logging
import math

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"


def model_name(horizon: int) -> str:
    """The registered model name of a horizon: `failure_<h>m`."""
    return f"failure_{horizon}m"


def should_promote(challenger_score: float, champion_score: float | None) -> bool:
    """True when the challenger's score is strictly higher, or no champion score is available."""
    if champion_score is None or math.isnan(champion_score):
        return True
    return challenger_score > champion_score


def version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version of registered model `name` holding `alias`, or None when there is none."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def register_challenger(client: MlflowClient, name: str, model_uri: str, run_id: str) -> ModelVersion:
    """Register `model_uri` (logged by `run_id`) as a new version of `name` with alias `challenger`."""
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name)
    version = client.create_model_version(name, model_uri, run_id=run_id)
    client.set_registered_model_alias(name, CHALLENGER, version.version)
    return version


def promote(client: MlflowClient, name: str, version: str) -> None:
    """Give `version` of `name` the alias `champion` (moving it from the previous champion)."""
    client.set_registered_model_alias(name, CHAMPION, version)
    log.info("%s version %s is now the champion", name, version)
