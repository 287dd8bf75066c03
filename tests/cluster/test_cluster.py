"""The pipeline submitted to a real standalone cluster with a shared tracking server: same tables
as a local run, and the faults a cluster has (a lost worker, a killed driver, two refreshes at
once, a tracking server that stops)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import pytest
import yaml
from chispa import assert_df_equality
from pyspark.sql import functions as F

from ingestion.registry import SOURCES
from jobs import delta_io
from jobs.config import load_config
from jobs.lake import Lake
from tests.cluster.conftest import HOST, Processes, free_port, stop, submit, wait_for
from tests.tiny_lake import link_all_but_last_batch, tiny_conf
from training.registry import CHAMPION, version_by_alias

pytestmark = pytest.mark.cluster
RUN_TIMEOUT = 1500  # a tiny pipeline takes 5 to 10 minutes on 2 shared cores


def finish(process: subprocess.Popen, log, timeout: float = RUN_TIMEOUT) -> int:
    """The exit status of a submitted stage; fails the test (and stops the stage) after `timeout`."""
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        pytest.fail(f"{log.name} did not finish in {timeout} s:\n{log.read_text()[-3000:]}")


def tables(spark, lake: Lake) -> dict:
    """The tables a run leaves that must not depend on where it ran."""
    found = {f"bronze/{s.name}": lake.bronze(s.name) for s in SOURCES if delta_io.table_exists(spark, lake.bronze(s.name))}
    found.update(quarantine=lake.quarantine, panel=lake.panel, scores=lake.scores)
    return {name: delta_io.read(spark, path) for name, path in found.items()}


def assert_same_tables(spark, a: Lake, b: Lake, names=None) -> None:
    left, right = tables(spark, a), tables(spark, b)
    assert sorted(left) == sorted(right)
    for name in names or left:
        assert_df_equality(left[name], right[name].select(*left[name].columns), ignore_row_order=True,
                           ignore_nullable=True)


@pytest.fixture(scope="module")
def runs(cluster, package, tiny_delivery, request, tmp_path_factory):
    """The tiny delivery less its last batch through the pipeline on the cluster (spark-submit, the
    tracking server), with worker-1 killed while it builds the panel; and meanwhile locally (the
    shared tiny lake: this session's Spark, a local SQLite store), as the two are independent."""
    cluster_folder = tmp_path_factory.mktemp("on_cluster")
    # Its own links to the batch folders: the refresh test delivers the held-back batch there.
    raw = cluster_folder / "raw"
    held_back = link_all_but_last_batch(tiny_delivery, raw)
    conf_path = tiny_conf(cluster_folder, cluster.tracking_uri)
    log = cluster_folder / "pipeline.log"
    process = submit(package, cluster.master_url, "pipeline", conf_path, "--raw-dir", str(raw), log=log)

    def kill_worker_1_once_ingested() -> str:
        # Once the application has its executor on the worker, and ingestion is done: the panel
        # is being built (the stage right after).
        wait_for(lambda: any((cluster.work / "worker-1").glob("app-*/*/stderr")), "an executor on worker-1")
        wait_for(lambda: "pipeline: ingest done" in log.read_text(), "the cluster run's ingestion",
                 timeout=RUN_TIMEOUT)
        os.killpg(cluster.workers["worker-1"].pid, signal.SIGKILL)  # lost, not shut down
        return log.read_text()

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            killed = pool.submit(kill_worker_1_once_ingested)
            tiny_lake = request.getfixturevalue("tiny_lake")
            said_at_kill = killed.result()
        assert finish(process, log) == 0, log.read_text()[-3000:]
    finally:
        stop(process)
        cluster.start_worker("worker-1")
    return {
        "raw": raw, "held_back": held_back, "conf": conf_path, "folder": cluster_folder,
        "local": tiny_lake.lake, "cluster": Lake.from_conf(load_config(conf_path)), "said_at_kill": said_at_kill,
        "log": log.read_text(),
    }


def test_the_cluster_run_equals_the_local_run(spark, runs):
    assert_same_tables(spark, runs["local"], runs["cluster"])
    assert delta_io.read(spark, runs["cluster"].scores).count() > 0


def test_a_worker_killed_while_the_panel_builds_leaves_the_run_to_the_other(runs):
    # Killed after ingestion and before the panel was done; the run then completed on worker-2
    # (and its panel equals the local one: the test above).
    assert "pipeline: ingest done" in runs["said_at_kill"] and "pipeline: panel done" not in runs["said_at_kill"]
    assert "pipeline: panel done" in runs["log"] and "pipeline: score done" in runs["log"]


def test_a_driver_killed_while_it_writes_the_scores(spark, cluster, package, runs):
    scores = runs["cluster"].scores
    before_version = delta_io.current_version(spark, scores)
    before = delta_io.read(spark, scores).cache()
    before.count()
    period = before.agg(F.max("period")).first()[0].isoformat()[:7]
    committed = {p for p in scores.rglob("*.parquet")}
    log = runs["folder"] / "score_killed.log"
    process = submit(package, cluster.master_url, "score", runs["conf"], "--period", period, log=log)
    def writing() -> bool:
        assert process.poll() is None, f"the scoring ended before its write was seen:\n{log.read_text()[-2000:]}"
        return any(p not in committed for p in scores.rglob("*.parquet"))

    # The first new data file means the write has begun; its commit comes after every task.
    wait_for(writing, "the scores' first new data file", timeout=RUN_TIMEOUT)
    os.killpg(process.pid, signal.SIGKILL)  # the driver, its Python side and spark-submit
    process.wait()
    assert delta_io.current_version(spark, scores) == before_version
    assert_df_equality(delta_io.read(spark, scores), before, ignore_row_order=True)

    log = runs["folder"] / "score_rerun.log"
    process = submit(package, cluster.master_url, "score", runs["conf"], "--period", period, log=log)
    assert finish(process, log) == 0, log.read_text()[-3000:]
    assert_df_equality(delta_io.read(spark, scores), before, ignore_row_order=True)
    before.unpersist()


def test_two_refreshes_at_once_one_runs_the_other_names_it(spark, cluster, package, runs):
    (runs["raw"] / runs["held_back"].name).symlink_to(runs["held_back"])
    logs = [runs["folder"] / f"refresh_{i}.log" for i in (1, 2)]
    processes = [submit(package, cluster.master_url, "pipeline", runs["conf"], "--raw-dir", str(runs["raw"]),
                        "--retrain", "never", log=log) for log in logs]
    statuses = [finish(process, log) for process, log in zip(processes, logs)]
    assert sorted(statuses) == [0, 1], [log.read_text()[-2000:] for log in logs]
    refused = logs[statuses.index(1)].read_text()
    assert "error: LakeLocked: another run writes the lake" in refused and "jobs/pipeline.py" in refused
    lake = runs["cluster"]
    logged = delta_io.read(spark, lake.ingest_log).where(F.col("batch") == runs["held_back"].name)
    assert logged.count() == logged.select("file").distinct().count() > 0  # the batch ingested once
    scores = delta_io.read(spark, lake.scores)
    assert scores.count() == scores.select("siren", "period").distinct().count()  # no firm scored twice
    latest = scores.agg(F.max("period")).first()[0]
    assert latest.strftime("%y%m") == runs["held_back"].name


def test_a_tracking_server_stopped_during_training_fails_clearly_and_promotes_nothing(
    spark, cluster, package, runs, tmp_path
):
    processes = Processes(tmp_path)
    port = free_port()
    command = [str(Path(sys.executable).parent / "mlflow"), "server", "--host", HOST, "--port", str(port),
               "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
               "--artifacts-destination", str(tmp_path / "artifacts"), "--workers", "1"]
    uri = f"http://{HOST}:{port}"
    client = mlflow.MlflowClient(uri, uri)

    def healthy() -> bool:
        return urllib.request.urlopen(f"{uri}/health", timeout=5).status == 200

    def training_started() -> bool:
        assert process.poll() is None, f"the training ended before its first run:\n{log.read_text()[-2000:]}"
        experiments = [e.experiment_id for e in client.search_experiments()]
        return bool(experiments and client.search_runs(experiments))

    # The refresh test delivered the held-back batch, which moves the 12-month labels' windows by
    # a month: with the tiny conf's 3-month windows, validation would have too few positives.
    conf = tmp_path / "train.yaml"
    conf.write_text(yaml.safe_dump({"extends": str(runs["conf"]),
                                    "training": {"split": {"test_months": 5, "valid_months": 5}}}))
    log = tmp_path / "train.log"
    try:
        server = processes.start("mlflow", command)
        wait_for(healthy, "MLflow server")
        process = submit(package, cluster.master_url, "train", conf, "--mlflow-uri", uri, log=log)
        wait_for(training_started, "a training run on the server", timeout=RUN_TIMEOUT)
        stop(server)
        assert finish(process, log) != 0
        said = f"error: TrackingUnavailable: MLflow tracking server {uri} stopped answering during the training"
        assert any(line.startswith(said) for line in log.read_text().splitlines()), log.read_text()[-3000:]
        processes.start("mlflow-again", command)
        wait_for(healthy, "MLflow server again")
        assert version_by_alias(client, "failure_12m", CHAMPION) is None
    finally:
        processes.stop_all()
