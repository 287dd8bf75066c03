"""The national run: every stage on a generated national delivery, then one monthly refresh.

    python -m bench.bench_national --raw-dir /data/national/raw --work-dir /data/national/run \
        --firms 350000 --months 61 [--conf conf/national.yaml]

`--raw-dir` holds a generated delivery (`python -m jobs.generate_extracts --firms 350000 --months
61 --out ...`): its last batch is held back for the refresh. Each stage runs as its own
`python -m jobs.<stage>` process on the other batches (ingest, build_panel, train, score, then the
pipeline for the regional lists); then the last batch is delivered and `jobs.pipeline --retrain
never` runs the monthly refresh. Per stage: wall and CPU seconds (the Python process and its
JVM), peak resident memory of each, and the counts the stage logs. Written to
bench/results/national.json.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

import psutil
import yaml

from bench import report
from jobs.config import DEFAULT_CONF, load_config

PROGRESS = re.compile(r"INFO [\w.]+: (?P<step>.+?) done in (?P<seconds>[\d.]+)s(?: \((?P<counts>.*)\))?$")


def sample_tree(pid: int, stop: threading.Event, figures: dict, interval: float = 0.5) -> None:
    """Until `stop`, record the peak RSS of the process `pid` (Python) and of its Java children, and
    the last CPU times seen of every process of the tree (a process's times vanish when it exits)."""
    root = psutil.Process(pid)
    cpu: dict[int, float] = {}
    while not stop.is_set():
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        python = jvm = 0
        for process in tree:
            try:
                rss, times = process.memory_info().rss, process.cpu_times()
                is_java = "java" in process.name()
            except psutil.NoSuchProcess:
                continue
            cpu[process.pid] = times.user + times.system
            if is_java:
                jvm += rss
            elif process.pid == pid:
                python = rss
        figures["peak_python_rss_mb"] = max(figures.get("peak_python_rss_mb", 0), round(python / 2**20))
        figures["peak_jvm_rss_mb"] = max(figures.get("peak_jvm_rss_mb", 0), round(jvm / 2**20))
        figures["cpu_seconds"] = round(sum(cpu.values()), 1)
        stop.wait(interval)


def run_stage(name: str, command: list[str], log_path: Path) -> dict:
    """Run one stage's command, sampled; return its figures and the progress lines it logged."""
    figures: dict = {"command": " ".join(command[2:])}
    start = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        stop = threading.Event()
        sampler = threading.Thread(target=sample_tree, args=(process.pid, stop, figures), daemon=True)
        sampler.start()
        status = process.wait()
        stop.set()
        sampler.join()
    figures["wall_seconds"] = round(time.monotonic() - start, 1)
    figures["exit_status"] = status
    figures["steps"] = [
        {"step": m["step"], "seconds": float(m["seconds"]), **_counts(m["counts"])}
        for m in map(PROGRESS.search, log_path.read_text().splitlines()) if m
    ]
    print(f"{name}: {figures['wall_seconds']}s, exit {status}", file=sys.stderr, flush=True)
    if status != 0:
        raise RuntimeError(f"stage {name} failed (exit {status}): see {log_path}")
    return figures


def _counts(text: str | None) -> dict:
    pairs = (item.split("=", 1) for item in (text or "").split(", ") if "=" in item)
    return {key: _number(value) for key, value in pairs}


def _number(value: str):
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def stage_commands(conf: str | None, raw: Path, lake: Path, mlflow_uri: str) -> list[tuple[str, list[str]]]:
    """The full build, stage by stage, as `python -m jobs.<stage>` commands."""
    common = [*(["--conf", conf] if conf else []), "--raw-dir", str(raw), "--lake-dir", str(lake),
              "--mlflow-uri", mlflow_uri]
    python = [sys.executable, "-m"]
    return [
        ("ingest", [*python, "jobs.ingest", *common]),
        ("build_panel", [*python, "jobs.build_panel", *common]),
        ("train", [*python, "jobs.train", *common]),
        ("score", [*python, "jobs.score", *common]),
        ("export", [*python, "jobs.pipeline", *common, "--retrain", "never"]),
    ]


def write_conf(work: Path, base: str | None, raw: Path, lake: Path) -> str:
    """A conf file under `work` extending `base`, with every path of the run under `work` (a conf's
    relative paths resolve against the folder above its own, here the work folder's parent)."""
    project = load_config(base)
    path, events = work / "conf" / "run.yaml", work / "events"
    for folder in (path.parent, events):
        folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({
        "extends": str(Path(base or DEFAULT_CONF).resolve()),
        "paths": {"raw_dir": str(raw), "lake_dir": str(lake), "exports_dir": str(work / "exports"),
                  "truth_dir": str(work / "truth"), "reference_dir": str(project.path("reference_dir"))},
        # Spark's event log, to profile the stages afterwards (spark history server or the JSON itself).
        "spark": {"settings": {"spark.eventLog.enabled": "true", "spark.eventLog.dir": str(events)}},
        "mlflow": {"tracking_uri": f"sqlite:///{work / 'mlflow.db'}",
                   "artifact_location": str(work / "mlflow-artifacts")},
    }))
    return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", required=True, type=Path, help="a generated delivery (last batch held back)")
    parser.add_argument("--work-dir", required=True, type=Path, help="lake, MLflow store, exports and logs go here")
    parser.add_argument("--firms", type=int, required=True, help="perimeter firms the delivery was generated with")
    parser.add_argument("--months", type=int, required=True, help="months it was generated with")
    parser.add_argument("--conf", default=None)
    parser.add_argument("--name", default="national", help="results file bench/results/<name>.json")
    args = parser.parse_args(argv)

    work = args.work_dir.resolve()
    raw, lake, logs = work / "raw", work / "lake", work / "logs"
    for folder in (raw, logs):
        folder.mkdir(parents=True, exist_ok=True)
    batches = sorted(p for p in args.raw_dir.resolve().iterdir() if p.is_dir() and p.name.isdigit())
    held_back = batches[-1]
    for batch in batches[:-1]:
        if not (raw / batch.name).exists():
            (raw / batch.name).symlink_to(batch)
    mlflow_uri = f"sqlite:///{work / 'mlflow.db'}"
    conf = write_conf(work, args.conf, raw, lake)

    stages, started = {}, time.monotonic()
    for name, command in stage_commands(conf, raw, lake, mlflow_uri):
        stages[name] = run_stage(name, command, logs / f"{name}.log")
    full_build = time.monotonic() - started

    (raw / held_back.name).symlink_to(held_back)
    refresh_command = [sys.executable, "-m", "jobs.pipeline", *stage_commands(conf, raw, lake, mlflow_uri)[0][1][3:],
                       "--retrain", "never"]
    stages["refresh"] = run_stage("refresh", refresh_command, logs / "refresh.log")

    report(args.name, {
        "firms": args.firms,
        "months": args.months,
        "batches": [b.name for b in batches],
        "refresh_batch": held_back.name,
        "full_build_minutes": round(full_build / 60, 1),
        "refresh_minutes": round(stages["refresh"]["wall_seconds"] / 60, 1),
        "stages": stages,
        "machine": {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                    "load_average": [round(x, 1) for x in os.getloadavg()]},
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
