"""What the cluster tests do on the cluster, each a function returning what it saw (the tests in
test_cluster.py assert on it): the first run, then two faults side by side. tests/cluster/fixtures.py
runs them in the background from the start of the test session.
"""
from __future__ import annotations

import os
import signal
import sys
import urllib.request
from pathlib import Path

import mlflow
from pyspark.sql import functions as F

from jobs import delta_io
from jobs.config import load_config
from jobs.lake import Lake
from tests.cluster.harness import HOST, RUN_TIMEOUT, Cluster, Processes, finish, free_port, stop, wait_for
from tests.tiny_lake import link_all_but_last_batch, tiny_conf
from training.registry import CHAMPION, version_by_alias

# The faults' stages side by side, one 1-core worker each, their expressions not compiled (the
# first run compiles; what the faults check does not depend on it).
FAULT_SETTINGS = {"spark.cores.max": "1", "spark.sql.codegen.wholeStage": "false",
                  "spark.sql.codegen.factoryMode": "NO_CODEGEN"}


def two_pipelines_at_once_losing_worker_1(cluster: Cluster, package: dict, delivery: Path, folder: Path) -> dict:
    """The tiny delivery less its last batch, submitted twice at once as `jobs.pipeline` to the
    cluster (the tracking server's URL as tracking URI): one takes the lake's lock and runs every
    stage, the other must stop naming it. Worker-1 is killed once the running one has ingested:
    the panel is being built (the stage right after). Returns the lake's conf, the logs, the exit
    statuses, and what the running one had said when the worker was killed."""
    raw = folder / "raw"  # its own links to the batch folders
    link_all_but_last_batch(delivery, raw)
    conf_path = tiny_conf(folder, cluster.tracking_uri)
    logs = [folder / f"pipeline_{i}.log" for i in (1, 2)]
    processes = [cluster.submit(package, "pipeline", conf_path, "--raw-dir", str(raw), log=log) for log in logs]
    try:
        running = wait_for(lambda: next((log for log in logs if "pipeline: ingest done" in log.read_text()), None),
                           "the cluster run's ingestion", timeout=RUN_TIMEOUT)
        # By then the stopped run has left the cores it held to the running one.
        wait_for(lambda: len(apps := cluster.active_apps()) == 1 and cluster.runs_executor("worker-1", apps[0]),
                 "the running application's executor on worker-1")
        said_at_kill = running.read_text()
        os.killpg(cluster.workers["worker-1"].pid, signal.SIGKILL)  # lost, not shut down
        statuses = [finish(process, log) for process, log in zip(processes, logs)]
    finally:
        cluster.start_worker("worker-1")
    return {"conf": conf_path, "folder": folder, "logs": logs, "statuses": statuses, "said_at_kill": said_at_kill,
            "lake": Lake.from_conf(load_config(conf_path))}


def kill_the_driver_while_it_writes_the_scores(spark, cluster: Cluster, package: dict, first: dict) -> dict:
    """Score the latest month again on the cluster, kill the driver once its first data file is
    written, then rerun the stage; returns the table's version and rows before, after the kill,
    and the rerun's status and log."""
    scores = first["lake"].scores
    before = {"version": delta_io.current_version(spark, scores), "rows": delta_io.read(spark, scores).count()}
    period = delta_io.read(spark, scores).agg(F.max("period")).first()[0].isoformat()[:7]
    committed = set(scores.rglob("*.parquet"))
    log = first["folder"] / "score_killed.log"
    process = cluster.submit(package, "score", first["conf"], "--period", period, log=log, settings=FAULT_SETTINGS)

    def writing() -> bool:
        assert process.poll() is None, f"the scoring ended before its write was seen:\n{log.read_text()[-2000:]}"
        return any(p not in committed for p in scores.rglob("*.parquet"))

    # The first new data file means the write has begun; its commit comes after every task.
    wait_for(writing, "the scores' first new data file", timeout=RUN_TIMEOUT)
    os.killpg(process.pid, signal.SIGKILL)  # the driver, its Python side and spark-submit
    process.wait()
    after_kill = {"version": delta_io.current_version(spark, scores), "rows": delta_io.read(spark, scores).count()}
    log = first["folder"] / "score_rerun.log"
    process = cluster.submit(package, "score", first["conf"], "--period", period, log=log, settings=FAULT_SETTINGS)
    return {"before": before, "after_kill": after_kill, "rerun_status": finish(process, log),
            "rerun_log": log.read_text()}


def stop_the_tracking_server_during_training(cluster: Cluster, package: dict, first: dict, folder: Path) -> dict:
    """Train on the cluster against a tracking server of its own, stopped once the first run is
    on it; returns the stage's status and log, and the champion the restarted server then has."""
    processes = Processes(folder)
    port = free_port()
    command = [str(Path(sys.executable).parent / "mlflow"), "server", "--host", HOST, "--port", str(port),
               "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
               "--artifacts-destination", str(folder / "artifacts"), "--workers", "1"]
    uri = f"http://{HOST}:{port}"
    client = mlflow.MlflowClient(uri, uri)
    log = folder / "train.log"

    def healthy() -> bool:
        return urllib.request.urlopen(f"{uri}/health", timeout=5).status == 200

    def training_started() -> bool:
        assert process.poll() is None, f"the training ended before its first run:\n{log.read_text()[-2000:]}"
        experiments = [e.experiment_id for e in client.search_experiments()]
        return bool(experiments and client.search_runs(experiments))

    try:
        server = processes.start("mlflow", command)
        wait_for(healthy, "MLflow server")
        process = cluster.submit(package, "train", first["conf"], "--mlflow-uri", uri, log=log, settings=FAULT_SETTINGS)
        wait_for(training_started, "a training run on the server", timeout=RUN_TIMEOUT)
        stop(server)
        status = finish(process, log)
        processes.start("mlflow-again", command)
        wait_for(healthy, "MLflow server again")
        return {"uri": uri, "status": status, "log": log.read_text(),
                "champion": version_by_alias(client, "failure_12m", CHAMPION)}
    finally:
        processes.stop_all()


