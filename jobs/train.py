"""Train one failure model per horizon on the panel, evaluated out of time and recorded in MLflow.

    python -m jobs.train [--horizon 12|18|24 ...] [--panel-version N] [--from-run RUN_ID]

The panel is read at a recorded Delta version (the latest by default); `--from-run` retrains a
logged run on exactly its panel version, features and training settings.
"""
from __future__ import annotations

import subprocess
from typing import Sequence

import mlflow
from pyspark.sql import SparkSession

from features import catalog
from jobs import delta_io, preflight
from jobs.cli import base_parser, config_from_args, exit_with_status, progress
from jobs.config import PROJECT_ROOT, Config
from jobs.lake import Lake
from jobs.session import build_session
from jobs.tracking import configure_mlflow, tracking_uri
from training.registry import model_name
from training.trainer import FeatureSpec, TrainingContext, train_horizon


def git_commit() -> str:
    """The commit of the code that runs, `unknown` outside a git checkout (e.g. from the wheel
    spark-submit ships with --py-files, where the project root is the wheel file itself)."""
    if not PROJECT_ROOT.is_dir():
        return "unknown"
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    except OSError:  # no git on this machine
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def catalogue_spec(skip_months: int | None = None) -> FeatureSpec:
    """The model inputs as the feature catalogue defines them; training starts `skip_months` into
    the panel (default: the features' lookback)."""
    if not catalog.FEATURES:
        raise ValueError("the feature catalogue (features/catalog.py) is empty: no model input")
    return FeatureSpec(
        names=catalog.feature_names(),
        fill_values={f.name: f.fill_value for f in catalog.FEATURES},
        themes={f.name: f.theme for f in catalog.FEATURES},
        lookback_months=catalog.LOOKBACK_MONTHS if skip_months is None else skip_months,
    )


def run(
    spark: SparkSession, conf: Config, horizons: Sequence[int] | None = None, panel_version: int | None = None,
    from_run: str | None = None,
) -> dict:
    """Train `horizons` (default: conf `horizons`) on the panel at `panel_version` (default: latest),
    or retrain the logged run `from_run` on exactly its panel version, features and settings.

    Returns per horizon (`<h>m`) the run, the registered version, whether it was promoted, the
    split counts and the test AUC-PR of the model and of the baselines.
    """
    client = configure_mlflow(conf)
    panel_path = Lake.from_conf(conf).panel
    if from_run:
        logged = mlflow.artifacts.load_dict(f"runs:/{from_run}/training_spec.json")
        horizons, version = [logged["horizon"]], logged["panel_version"]
        spec, settings = FeatureSpec(**logged["features"]), logged["training"]
        tags = {"retrained_from": from_run}
    else:
        settings = conf["training"]
        spec = catalogue_spec(settings["split"].get("skip_months"))
        horizons = horizons or conf["horizons"]
        version = panel_version if panel_version is not None else delta_io.current_version(spark, panel_path)
        tags = {}

    panel = delta_io.read(spark, panel_path, version=version)
    context = TrainingContext(version, git_commit(), conf, tags, panel_path=str(panel_path))
    done = {}
    for horizon in horizons:
        with progress(f"train {horizon}m") as counts:
            try:
                result = train_horizon(panel, horizon, spec, settings, client, context)
            except Exception as error:
                raise_if_tracking_lost(conf, horizon, error)
                raise
            counts.update(
                panel_version=version,
                **{f"{split}_rows": c["rows"] for split, c in result.counts.items()},
                test_auc_pr=round(result.test_auc_pr, 4),
                **{f"{name}_auc_pr": round(value, 4) for name, value in result.baseline_auc_pr.items()},
                version=result.version,
                promoted=result.promoted,
            )
            done[f"{horizon}m"] = {"run_id": result.run_id, **counts}
    return done


class TrackingUnavailable(RuntimeError):
    """The MLflow tracking server stopped answering while a model was trained."""


def raise_if_tracking_lost(conf: Config, horizon: int, error: Exception) -> None:
    """Raise TrackingUnavailable when `error` came with conf's tracking server gone: registration
    and promotion are separate calls, so a version may be registered but none promoted."""
    try:
        preflight.check_mlflow(conf)
    except preflight.PreflightError:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise TrackingUnavailable(
            f"MLflow tracking server {tracking_uri(conf)} stopped answering during the training of "
            f"{model_name(horizon)} ({reason[:200]}): restart it and train again (a version becomes champion "
            "only once fully registered)"
        ) from error


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: train the horizons asked for and record them in MLflow."""
    parser = base_parser("Train the failure models (one per horizon) and record them in MLflow.")
    parser.add_argument("--horizon", type=int, choices=(12, 18, 24), action="append",
                        help="horizon in months (repeatable; default: conf horizons)")
    parser.add_argument("--panel-version", type=int, default=None, help="panel Delta version (default: latest)")
    parser.add_argument("--from-run", default=None,
                        help="retrain a logged run: its horizon, panel version, features and settings")
    args = parser.parse_args(argv)
    conf = config_from_args(args)
    preflight.check(conf, uses_mlflow=True)
    spark = build_session(conf, app_name="train")
    run(spark, conf, args.horizon, args.panel_version, args.from_run)
    return 0


def cli() -> None:
    exit_with_status(main)


if __name__ == "__main__":
    cli()
