"""A real Spark standalone cluster and an MLflow tracking server on 127.0.0.1, for the tests
marked `cluster`: a master and two workers started from the installed pyspark's own classes
(`bin/spark-class`), `mlflow server` with a SQLite backend serving the artifacts, and stages
submitted with `spark-submit` as the README says. The fixtures are in tests/cluster/fixtures.py.

Ports are chosen free; every process is started in its own session and stopped by its id at the
end, even when a test fails.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyspark
import pytest

from jobs.config import PROJECT_ROOT, load_config

HOST = load_config().get("bind_host") or "127.0.0.1"  # what conf says the project listens on
SPARK_HOME = Path(pyspark.__file__).parent
START_TIMEOUT = 120
EXECUTOR_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
RUN_TIMEOUT = 1500  # a tiny pipeline takes 5 to 10 minutes on 2 shared cores


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for(check, what: str, timeout: float = START_TIMEOUT):
    """Poll `check` until it returns something true, and return it; fail the test naming `what`
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
            if found:
                return found
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a process started by `start` and its children (its session), by its id."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Processes:
    """The processes a fixture started, stopped in reverse order at teardown."""

    logs: Path
    started: list[subprocess.Popen] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict | None = None, log: Path | None = None) -> subprocess.Popen:
        """Start `command` in a session of its own, its output in `log` (default `<logs>/<name>.log`)."""
        log = log or self.logs / f"{name}.log"
        process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, **(env or {})}, cwd=log.parent)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            stop(process)


@dataclass
class Cluster:
    """A standalone master with its workers, and a tracking server."""

    processes: Processes
    master_url: str
    master_ui: str
    workers: dict[str, subprocess.Popen]
    tracking_uri: str
    mlflow: subprocess.Popen
    work: Path

    def _state(self) -> dict:
        with urllib.request.urlopen(f"{self.master_ui}/json/", timeout=5) as response:
            return json.load(response)

    def alive_workers(self) -> int:
        return sum(1 for w in self._state()["workers"] if w["state"] == "ALIVE")

    def active_apps(self) -> list[str]:
        """The ids of the applications the master runs now."""
        return [app["id"] for app in self._state()["activeapps"]]

    def runs_executor(self, worker: str, app: str) -> bool:
        """True once worker `worker` has started an executor of application `app`."""
        return any((self.work / worker / app).glob("*/stderr"))

    def start_worker(self, name: str) -> subprocess.Popen:
        """Start (or restart) worker `name` with 1 core and 2 GiB, and wait for the master to see it."""
        before = self.alive_workers()
        folder = self.work / name
        folder.mkdir(exist_ok=True)
        self.workers[name] = self.processes.start(name, [
            str(SPARK_HOME / "bin" / "spark-class"), "org.apache.spark.deploy.worker.Worker",
            "--host", HOST, "--port", str(free_port()), "--webui-port", str(free_port()),
            "--cores", "1", "--memory", "2g", "--work-dir", str(folder), self.master_url,
        ], env={"PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": HOST})
        wait_for(lambda: self.alive_workers() > before, f"worker {name}")
        return self.workers[name]

    def submit(self, package: dict, stage: str, conf: Path, *args: str, log: Path,
               settings: dict | None = None) -> subprocess.Popen:
        """`spark-submit` of `jobs/<stage>.py` to the master, with the wheel and the jars, as the
        README says (plus Spark `settings`); its output goes to `log`. Stopped with the cluster."""
        command = [
            str(SPARK_HOME / "bin" / "spark-submit"), "--master", self.master_url,
            "--py-files", str(package["wheel"]), "--jars", ",".join(str(j) for j in package["jars"]),
            "--conf", f"spark.driver.host={HOST}", "--conf", f"spark.driver.bindAddress={HOST}",
            "--conf", "spark.executor.memory=1g", "--conf", "spark.ui.enabled=false",
            # Executors that live a few minutes on a handful of rows: the quick compiler only, and
            # the serial GC (the first run's executors: 122 CPU seconds against 281).
            "--conf", f"spark.executor.extraJavaOptions={EXECUTOR_JAVA_OPTIONS}",
            *(arg for key, value in (settings or {}).items() for arg in ("--conf", f"{key}={value}")),
            str(PROJECT_ROOT / "jobs" / f"{stage}.py"), "--conf", str(conf), *args,
        ]
        return self.processes.start(stage, command, log=log, env={
            "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": HOST,
            # A stopped server fails the stage in seconds, not after MLflow's retries.
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"})


def finish(process: subprocess.Popen, log: Path, timeout: float = RUN_TIMEOUT) -> int:
    """The exit status of a submitted stage; fails the test (and stops the stage) after `timeout`."""
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        pytest.fail(f"{log.name} did not finish in {timeout} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def started_cluster(work: Path) -> Iterator[Cluster]:
    """A master, two workers and a tracking server on 127.0.0.1, under `work`; every process
    started, the submitted stages included, is stopped when the block ends."""
    processes = Processes(work)
    try:
        port, ui = free_port(), free_port()
        processes.start("master", [
            str(SPARK_HOME / "bin" / "spark-class"), "org.apache.spark.deploy.master.Master",
            "--host", HOST, "--port", str(port), "--webui-port", str(ui),
        ], env={"SPARK_LOCAL_IP": HOST})
        master_ui = f"http://{HOST}:{ui}"
        wait_for(lambda: urllib.request.urlopen(f"{master_ui}/json/", timeout=5).status == 200, "Spark master")
        mlflow_port = free_port()
        mlflow = processes.start("mlflow", [
            str(Path(sys.executable).parent / "mlflow"), "server", "--host", HOST, "--port", str(mlflow_port),
            "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}", "--artifacts-destination",
            str(work / "mlflow-artifacts"), "--workers", "1",
        ])
        tracking_uri = f"http://{HOST}:{mlflow_port}"
        wait_for(lambda: urllib.request.urlopen(f"{tracking_uri}/health", timeout=5).status == 200, "MLflow server")
        running = Cluster(processes, f"spark://{HOST}:{port}", master_ui, {}, tracking_uri, mlflow, work)
        for name in ("worker-1", "worker-2"):
            running.start_worker(name)
        yield running
    finally:
        processes.stop_all()
