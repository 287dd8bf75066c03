"""A tiny generated delivery run through the whole pipeline once per test run, for the tests that
need every stage's output: the notebooks, the back-test and drift watch, and the cluster tests
(as the local run theirs must equal).

800 firms over 54 months from 2016-03 (a 50-month history, then the batches 2005 to 2008). The
economy-wide shock of the generator's conf (2020-03) falls in the last months; the 12-month labels
then end in 2019 and training in 2018, so the champions learn from calm months only, as a model
trained before a crisis would, and on rows with a year of history behind them.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import mlflow
import yaml

from jobs import pipeline
from jobs.config import PROJECT_ROOT, Config, load_config
from jobs.lake import Lake

DELIVERY = {"firms": 800, "months": 54, "start": "2016-03", "history_months": 50, "seed": 3}


def generate_delivery(folder: Path) -> Path:
    """The tiny delivery (DELIVERY) under `folder`: its raw batches in `folder/raw`."""
    options = [f"--{key.replace('_', '-')}={value}" for key, value in DELIVERY.items()]
    subprocess.run([sys.executable, "-m", "jobs.generate_extracts", "--out", str(folder / "raw"),
                    "--truth-dir", str(folder / "truth"), *options], check=True, cwd=PROJECT_ROOT, capture_output=True)
    return folder / "raw"


def tiny_conf(folder: Path, tracking_uri: str) -> Path:
    """A conf for the tiny delivery under `folder`: one horizon (12 months), 3-month windows,
    training from the panel's 13th month (the features' 12-month lags in place; the 24-month ones
    missing, which the trees then ignore), one small search candidate, a short logistic baseline,
    2 shuffle partitions."""
    path = folder / "conf" / "tiny.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({
        "extends": str(PROJECT_ROOT / "conf" / "local.yaml"),
        "paths": {"lake_dir": str(folder / "lake"), "exports_dir": str(folder / "exports"),
                  "reference_dir": str(PROJECT_ROOT / "conf" / "reference")},
        "horizons": [12],
        # As the test session's (tests/conftest.py), so that a job submitted elsewhere lays the
        # training rows out in as many partitions as the tests do.
        "spark": {"settings": {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
                               "spark.sql.adaptive.enabled": "false", "spark.driver.memory": "2g"}},
        "mlflow": {"tracking_uri": tracking_uri, "artifact_location": str(folder / "mlflow-artifacts")},
        "training": {"split": {"test_months": 3, "valid_months": 3, "skip_months": 12},
                     "search": {"positive_weight": [1.0], "max_iter": [10], "subsampling_rate": [1.0]},
                     "logistic": {"max_iter": 20},  # a Spark job per iteration; tiny data needs few
                     "metrics": {"bootstrap": {"replicates": 20}}},
        "scoring": {"alert_horizon": 12},
    }))
    return path


@contextlib.contextmanager
def mlflow_kept() -> Iterator[None]:
    """Run a job that points MLflow at its own store, then point it back: the other tests' stores
    stay theirs."""
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


@dataclass(frozen=True)
class TinyLake:
    """The tiny delivery's lake after the pipeline ran on every batch but the last."""

    raw: Path            # the batches the pipeline ran on (links to the delivery's folders)
    held_back: Path      # the delivery's last batch, not delivered yet
    conf_path: Path
    conf: Config
    lake: Lake


def link_all_but_last_batch(delivery: Path, raw: Path) -> Path:
    """Links in a new folder `raw` to every batch folder of `delivery` but the last, which it
    returns (held back: a later delivery)."""
    raw.mkdir()
    batches = sorted(p for p in delivery.iterdir() if p.is_dir())
    for batch in batches[:-1]:
        (raw / batch.name).symlink_to(batch.resolve())
    return batches[-1]


def build_tiny_lake(spark, delivery: Path, folder: Path) -> TinyLake:
    """Run the pipeline in this session on `delivery` less its last batch, into `folder`."""
    raw = folder / "raw"
    held_back = link_all_but_last_batch(delivery, raw)
    conf_path = tiny_conf(folder, f"sqlite:///{folder / 'mlflow.db'}")
    conf = load_config(conf_path).with_overrides(raw_dir=str(raw))
    with mlflow_kept():
        pipeline.run(spark, conf)
    return TinyLake(raw, held_back, conf_path, conf, Lake.from_conf(conf))
