"""One Spark session for the whole test run: local[2], 2 shuffle partitions, UI off, UTC, Delta.
The cluster tests' fixtures are a plugin (tests/cluster/fixtures.py), as their work starts with the
session; those tests run last."""
from __future__ import annotations

import os

import pytest

from jobs.config import load_config
from jobs.session import build_session
from tests.tiny_lake import TinyLake, build_tiny_lake, generate_delivery

pytest_plugins = ("tests.cluster.fixtures",)

TEST_SPARK_SETTINGS = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "2g",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.sql.adaptive.enabled": "false",
    # Expressions evaluated as they are, not compiled to Java: on a handful of rows compiling costs
    # more than it saves (a fifth of the driver's time in the panel's tests). The demo, the
    # notebooks and the cluster run compile, and the cluster test compares its tables with the
    # local run's.
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


def pytest_collection_modifyitems(items):
    """The `cluster` tests last: the cluster's first run, started with the session
    (tests/cluster/fixtures.py), goes on beside the others."""
    items.sort(key=lambda item: item.get_closest_marker("cluster") is not None)


@pytest.fixture(scope="session")
def conf():
    """The project's local configuration, as the jobs read it."""
    return load_config()


@pytest.fixture(scope="session", autouse=True)
def stray_mlflow_store(tmp_path_factory):
    """MLflow's default store for a call made before any test points it somewhere: a file of the
    test run, not `mlflow.db` in the working directory (MLflow 3's default)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow_default') / 'mlflow.db'}"
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    yield uri
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = previous


@pytest.fixture(scope="session")
def spark(conf):
    """The session-scoped SparkSession, built by the project's one session factory."""
    conf["spark"]["settings"].update(TEST_SPARK_SETTINGS)
    session = build_session(conf, app_name="tests", master="local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def tiny_delivery(tmp_path_factory):
    """The tiny generated delivery of tests/tiny_lake.py (raw batches)."""
    return generate_delivery(tmp_path_factory.mktemp("tiny_delivery"))


@pytest.fixture(scope="session")
def tiny_lake(spark, tiny_delivery, tmp_path_factory) -> TinyLake:
    """The whole pipeline run once on the tiny delivery less its last batch (tests/tiny_lake.py);
    tests read it, and write only tables and runs of their own."""
    return build_tiny_lake(spark, tiny_delivery, tmp_path_factory.mktemp("tiny_lake"))
