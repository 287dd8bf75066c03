"""Every stage at one scale, then the monthly refresh, with the references of each stage.

    python -m bench.bench_scale --scale national      (make bench SCALE=national; scales in conf/bench.yaml)

Generates the scale's delivery once (`bench.work_dir/<scale>/raw`; reused when there) and holds
its last batch back. Each stage runs as its own `python -m jobs.<stage>` process on the other
batches (ingest, build_panel, train, score, then the pipeline for the regional lists); then the
last batch is delivered and `jobs.pipeline --retrain never` runs the monthly refresh. Then the
references on the same lake: DuckDB on the panel's monthly aggregates and pandas on one region's
(bench.bench_panel), and LightGBM on the same training rows (bench.bench_train). Per stage: wall
and CPU seconds (the Python process and its JVM), peak resident memory of each, and the counts the
stage logs.
Written to bench/results/<scale>.json; bench/summary.py turns every scale's file into SUMMARY.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

import psutil
import yaml

from bench import RESULTS_DIR, profile_events, report
from jobs.config import PROJECT_ROOT, Config, load_config
from jobs.train import git_commit

DEFAULT_CONF = PROJECT_ROOT / "conf" / "bench.yaml"
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


def run_stage(name: str, command: list[str], log_path: Path, events_dir: Path | None = None) -> dict:
    """Run one stage's command, sampled; return its figures and the progress lines it logged,
    and where its Spark time went (`profile`, from its event logs in `events_dir`)."""
    # Paths relative to the project, so a committed results file names no folder of this machine.
    figures: dict = {"command": " ".join(command[2:]).replace(f"{PROJECT_ROOT}/", "")}
    started_at = time.time()
    start = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        stop = threading.Event()
        sampler = threading.Thread(target=sample_tree, args=(process.pid, stop, figures), daemon=True)
        sampler.start()
        status = process.wait()
        stop.set()
        sampler.join()
    figures["wall_seconds"] = round(time.monotonic() - start, 1)
    figures["exit_status"] = status
    figures["commit"] = git_commit()  # a resumed run may measure its stages on different commits
    # What else ran meanwhile: 1, 5 and 15-minute load averages at the stage's end (2 = both cores busy).
    figures["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    figures["steps"] = [
        {"step": m["step"], "seconds": float(m["seconds"]), **_counts(m["counts"])}
        for m in map(PROGRESS.search, log_path.read_text().splitlines()) if m
    ]
    if events_dir is not None:
        figures["profile"] = [{"log": log.name, "steps": profile_events.heaviest(profile_events.profile(log))}
                              for log in profile_events.logs_since(events_dir, started_at)]
    print(f"{name}: {figures['wall_seconds']}s, exit {status}", file=sys.stderr, flush=True)
    if status != 0:
        raise RuntimeError(f"stage {name} failed (exit {status}): see {log_path}")
    return figures


def _counts(text: str | None) -> dict:
    pairs = (item.split("=", 1) for item in (text or "").split(", ") if "=" in item)
    return {key: _number(value) for key, value in pairs}


def _number(value: str):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def write_conf(work: Path, base: Path, raw: Path, lake: Path, scale: dict) -> Path:
    """A conf file under `work` extending `base`, with every path of the run under `work` (a conf's
    relative paths resolve against the folder above its own, here the work folder's parent), the
    scale's shuffle partitions and, when it sets one, its region for pandas."""
    project = load_config(base)
    path, events = work / "conf" / "run.yaml", work / "events"
    for folder in (path.parent, events):
        folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({
        "extends": str(base.resolve()),
        "paths": {"raw_dir": str(raw), "lake_dir": str(lake), "exports_dir": str(work / "exports"),
                  "truth_dir": str(work / "truth"), "reference_dir": str(project.path("reference_dir"))},
        # Spark's event log, to profile the stages afterwards (spark history server or the JSON itself).
        "spark": {"settings": {"spark.eventLog.enabled": "true", "spark.eventLog.dir": str(events),
                               "spark.sql.shuffle.partitions": str(scale["shuffle_partitions"])}},
        "mlflow": {"tracking_uri": f"sqlite:///{work / 'mlflow.db'}",
                   "artifact_location": str(work / "mlflow-artifacts")},
        **({"benchmarks": {"pandas_region": str(scale["pandas_region"])}} if "pandas_region" in scale else {}),
    }))
    return path


def delivery(bench: dict, scale: str, folder: Path, logs: Path) -> tuple[list[Path], dict | None]:
    """The scale's batch folders, generated first when `folder` holds none (then with its figures)."""
    figures = None
    if not (folder / "raw").is_dir() or not any((folder / "raw").iterdir()):
        firms, seed = bench["scales"][scale]["firms"], bench["scales"][scale]["seed"]
        command = [sys.executable, "-m", "jobs.generate_extracts", "--out", str(folder / "raw"),
                   "--truth-dir", str(folder / "truth"), "--firms", str(firms), "--months", str(bench["months"]),
                   "--start", bench["start"], "--history-months", str(bench["history_months"]),
                   "--seed", str(seed), "--overwrite"]
        figures = run_stage("generate", command, logs / "generate.log")
    batches = sorted(p for p in (folder / "raw").iterdir() if p.is_dir() and p.name.isdigit())
    return batches, figures


def build_commands(conf: Path, raw: Path, lake: Path) -> dict[str, list[str]]:
    """The full build, stage by stage, as `python -m jobs.<stage>` commands."""
    common = ["--conf", str(conf), "--raw-dir", str(raw), "--lake-dir", str(lake)]
    python = [sys.executable, "-m"]
    return {
        "ingest": [*python, "jobs.ingest", *common],
        "build_panel": [*python, "jobs.build_panel", *common],
        "train": [*python, "jobs.train", *common],
        "score": [*python, "jobs.score", *common],
        "export": [*python, "jobs.pipeline", *common, "--retrain", "never"],
    }


def references(conf: Path, lake: Path, logs: Path, scale: str, horizon: int) -> dict:
    """DuckDB on the monthly aggregates, pandas on one region's, and LightGBM on the training rows,
    on the same lake."""
    python = [sys.executable, "-m"]
    commands = {
        "panel_aggregates": [*python, "bench.bench_panel", "--conf", str(conf), "--lake-dir", str(lake),
                             "--aggregates-only", "--name", f"{scale}_panel"],
        "training": [*python, "bench.bench_train", "--conf", str(conf), "--lake-dir", str(lake),
                     "--horizon", str(horizon), "--levers", "cached", "--name", f"{scale}_train"],
    }
    found = {}
    for name, command in commands.items():
        figures = run_stage(name, command, logs / f"{name}.log")
        figures["results"] = json.loads((RESULTS_DIR / f"{command[command.index('--name') + 1]}.json").read_text())
        found[name] = figures
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", required=True, help="a scale of conf bench.scales (demo, region, mid, national)")
    parser.add_argument("--conf", type=Path, default=DEFAULT_CONF)
    parser.add_argument("--keep", action="store_true", help="keep the lake and the logs (default: the delivery only)")
    parser.add_argument("--no-references", action="store_true", help="skip DuckDB and LightGBM (run them later)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the lake of a run stopped between stages (--keep) and run only the stages its "
                             "results file does not have")
    args = parser.parse_args(argv)
    conf: Config = load_config(args.conf)
    bench = conf["bench"]
    if args.scale not in bench["scales"]:
        raise SystemExit(f"unknown scale {args.scale!r}: use one of {', '.join(bench['scales'])}")

    folder = (conf.root / bench["work_dir"] / args.scale).resolve()
    work = folder / "run"
    previous = json.loads((RESULTS_DIR / f"{args.scale}.json").read_text()) if args.resume else None
    if previous is None:
        shutil.rmtree(work, ignore_errors=True)  # a run starts from an empty lake
    logs, raw, lake = work / "logs", work / "raw", work / "lake"
    for path in (logs, raw):
        path.mkdir(parents=True, exist_ok=True)
    batches, generated = delivery(bench, args.scale, folder, logs)
    held_back = batches[-1]
    for batch in batches[:-1]:
        if not (raw / batch.name).exists():
            (raw / batch.name).symlink_to(batch)
    scale = bench["scales"][args.scale]
    run_conf = write_conf(work, args.conf, raw, lake, scale)

    figures = {
        "scale": args.scale,
        "commit": git_commit(),  # the code measured
        "firms": scale["firms"],
        "months": bench["months"],
        "shuffle_partitions": scale["shuffle_partitions"],
        "batches": [b.name for b in batches],
        "refresh_batch": held_back.name,
        "delivery_megabytes": round(sum(f.stat().st_size for f in (folder / "raw").rglob("*") if f.is_file()) / 1e6),
        "complete": False,  # until every stage ran: the file is rewritten after each one
        "generate": generated if previous is None else previous.get("generate"),
        "stages": {} if previous is None else previous["stages"],
    }
    for stage in figures["stages"].values():  # measured by the first run, on its commit
        stage.setdefault("commit", previous["commit"])

    def save() -> None:
        figures["machine"] = {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                              "load_average": [round(x, 1) for x in os.getloadavg()]}
        report(args.scale, figures)

    def measure(name: str, command: list[str]) -> None:
        """Run and record one stage, unless the stopped run resumed here measured it (--resume)."""
        if name not in figures["stages"]:
            figures["stages"][name] = run_stage(name, command, logs / f"{name}.log", work / "events")
            save()

    build = build_commands(run_conf, raw, lake)
    for name, command in build.items():
        measure(name, command)
    figures["full_build_minutes"] = round(sum(figures["stages"][name]["wall_seconds"] for name in build) / 60, 1)
    if not (raw / held_back.name).exists():
        (raw / held_back.name).symlink_to(held_back)
    measure("refresh", [sys.executable, "-m", "jobs.pipeline", "--conf", str(run_conf), "--retrain", "never"])
    figures["refresh_minutes"] = round(figures["stages"]["refresh"]["wall_seconds"] / 60, 1)
    save()
    if not args.no_references:
        figures["references"] = references(run_conf, lake, logs, args.scale, bench["reference_horizon"])
    figures["complete"] = True
    save()
    if not args.keep:
        shutil.rmtree(lake, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
