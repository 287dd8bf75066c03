"""The model registry flow: a new model is registered as `challenger` and becomes `champion` only
when it beats the current champion and the baselines on the same test rows (the first model of a
name becomes champion even below the baselines, tagged `below_baselines=true`)."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Mapping

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
# Tag of a version (and its run) promoted without beating the baselines (see promotion_decision).
BELOW_BASELINES = "below_baselines"


def model_name(horizon: int) -> str:
    """The registered model name of a horizon: `failure_<h>m`."""
    return f"failure_{horizon}m"


@dataclass(frozen=True)
class Decision:
    """What the promotion gate decided for a challenger, and why (for the run's log)."""

    promoted: bool
    below_baselines: bool  # promoted although it does not beat the baselines: no champion to keep
    reason: str


def promotion_decision(
    challenger_score: float, baseline_scores: Mapping[str, float], champion_score: float | None
) -> Decision:
    """The promotion gate, on scores of the same test rows: a challenger becomes champion when it
    beats every baseline and the current champion. Without a comparable champion (none, or one
    that could not be evaluated: NaN) it is promoted anyway, so that scoring can run, but marked
    `below_baselines` when it does not beat them."""
    beaten = [name for name, score in baseline_scores.items() if not challenger_score > score]
    if champion_score is None or math.isnan(champion_score):
        if beaten:
            return Decision(True, True, f"no champion yet: promoted although it does not beat {', '.join(beaten)}")
        return Decision(True, False, "no champion yet, and it beats the baselines")
    if beaten:
        return Decision(False, False, f"does not beat the baseline(s) {', '.join(beaten)}")
    if not challenger_score > champion_score:
        return Decision(False, False, f"does not beat the champion ({challenger_score:.4f} <= {champion_score:.4f})")
    return Decision(True, False, f"beats the champion ({challenger_score:.4f} > {champion_score:.4f}) and the baselines")


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


def below_baselines_warning(version: ModelVersion) -> str | None:
    """The warning to log when scoring with `version`: set when it was promoted below the
    baselines (tag `below_baselines=true`), else None."""
    if (version.tags or {}).get(BELOW_BASELINES) != "true":
        return None
    return (f"{version.name} version {version.version} is champion although it does not beat the baselines "
            "(first model of its name): its alerts are no better than the social-debt rule's; retrain")
