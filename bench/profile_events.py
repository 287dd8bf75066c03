"""Where a job's time went, from its Spark event log: totals per pipeline step (the job
descriptions common.observability.stage sets), heaviest first.

    python -m bench.profile_events work/bench/national/run/events/eventlog_v2_local-... \
        [--name national_build_panel] [--top 15]

Reads a rolling (v2) event log folder or a single file, plain or zstd-compressed (Spark's
default codec), and prints and writes bench/results/<name>.json: per description, the jobs'
wall seconds (from submission to end), the tasks' executor run and CPU seconds, JVM GC seconds,
bytes read, shuffled and spilled. Each step's slowest SQL execution comes with its plan's top
operators, to say what the step does when its time is spent.
"""
from __future__ import annotations

import argparse
import io
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Iterator, Sequence

import zstandard

from bench import report

SQL_START = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart"
SQL_END = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd"
UNNAMED = "(no description)"
MB = 1e6


def event_files(path: Path) -> list[Path]:
    """The event files of a log: the folder's `events_<n>_...` in order, or the file itself."""
    if path.is_file():
        return [path]
    files = [f for f in path.iterdir() if f.name.startswith("events_")]
    return sorted(files, key=lambda f: int(f.name.split("_")[1]))


def events(path: Path) -> Iterator[dict]:
    """Every event of the log at `path`, decoded; a log cut short (an application still running,
    or killed) ends at its last whole event."""
    for file in event_files(path):
        with file.open("rb") as raw:
            if file.suffix == ".zstd":
                stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            else:
                stream = raw
            try:
                for line in io.TextIOWrapper(stream, encoding="utf-8"):
                    if line.strip():
                        yield json.loads(line)
            except (json.JSONDecodeError, zstandard.ZstdError, UnicodeDecodeError):
                return


def plan_operators(plan: str, count: int = 6) -> list[str]:
    """The first operators of a physical plan's tree, without their arguments."""
    found = []
    for line in plan.splitlines():
        line = line.strip(" :+-*()0123456789")
        if not line or line.startswith("="):
            if found:
                break
            continue
        # Without arguments and paths: a results file names no folder of the machine.
        found.append(re.sub(r"\s*-?\s*\w+:/\S*", "", line.split(" [")[0].split(" (")[0]))
        if len(found) == count:
            break
    return found


def profile(path: Path) -> dict:
    """The log's totals per job description, heaviest wall time first."""
    stage_step, job_step, job_start = {}, {}, {}
    steps: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    sql: dict[int, dict] = {}
    app_start = app_end = None
    for event in events(path):
        kind = event["Event"]
        if kind == "SparkListenerApplicationStart":
            app_start = event["Timestamp"]
        elif kind == "SparkListenerApplicationEnd":
            app_end = event["Timestamp"]
        elif kind == "SparkListenerJobStart":
            step = (event.get("Properties") or {}).get("spark.job.description") or UNNAMED
            job_step[event["Job ID"]] = step
            job_start[event["Job ID"]] = event["Submission Time"]
            for stage_id in event["Stage IDs"]:
                stage_step[stage_id] = step
            execution = (event.get("Properties") or {}).get("spark.sql.execution.id")
            if execution is not None and int(execution) in sql:
                sql[int(execution)].setdefault("step", step)
        elif kind == "SparkListenerJobEnd":
            step = job_step.get(event["Job ID"], UNNAMED)
            steps[step]["jobs"] += 1
            steps[step]["job_seconds"] += (event["Completion Time"] - job_start[event["Job ID"]]) / 1e3
        elif kind == "SparkListenerTaskEnd":
            metrics = event.get("Task Metrics") or {}
            totals = steps[stage_step.get(event["Stage ID"], UNNAMED)]
            totals["tasks"] += 1
            totals["failed_tasks"] += bool(event["Task Info"].get("Failed"))
            totals["executor_run_seconds"] += metrics.get("Executor Run Time", 0) / 1e3
            totals["executor_cpu_seconds"] += metrics.get("Executor CPU Time", 0) / 1e9
            totals["gc_seconds"] += metrics.get("JVM GC Time", 0) / 1e3
            totals["input_mb"] += (metrics.get("Input Metrics") or {}).get("Bytes Read", 0) / MB
            shuffle_read = metrics.get("Shuffle Read Metrics") or {}
            totals["shuffle_read_mb"] += (shuffle_read.get("Remote Bytes Read", 0)
                                          + shuffle_read.get("Local Bytes Read", 0)) / MB
            totals["shuffle_write_mb"] += (metrics.get("Shuffle Write Metrics") or {}).get(
                "Shuffle Bytes Written", 0) / MB
            totals["spill_disk_mb"] += metrics.get("Disk Bytes Spilled", 0) / MB
        elif kind == SQL_START:
            sql[event["executionId"]] = {"start": event["time"], "plan": event.get("physicalPlanDescription", "")}
        elif kind == SQL_END and event["executionId"] in sql:
            sql[event["executionId"]]["seconds"] = (event["time"] - sql[event["executionId"]]["start"]) / 1e3

    slowest: dict[str, dict] = {}
    for execution in sql.values():
        step = execution.get("step")
        if step and execution.get("seconds", 0) > slowest.get(step, {}).get("seconds", -1):
            slowest[step] = execution
    rows = []
    for step, totals in steps.items():
        row = {"step": step, **{k: round(v, 1) for k, v in totals.items()}}
        if step in slowest:
            row["slowest_sql"] = {"seconds": round(slowest[step]["seconds"], 1),
                                  "operators": plan_operators(slowest[step]["plan"])}
        rows.append(row)
    rows.sort(key=lambda r: r.get("job_seconds", 0), reverse=True)
    wall = (app_end - app_start) / 1e3 if app_start is not None and app_end is not None else None
    return {"log": path.name, "application_seconds": wall,
            "job_seconds": round(sum(r.get("job_seconds", 0) for r in rows), 1), "steps": rows}


def logs_since(events_dir: Path, since: float) -> list[Path]:
    """The event logs (folders or files) of `events_dir` started at or after `since` (epoch
    seconds), oldest first: those of the applications a stage ran."""
    if not events_dir.is_dir():
        return []
    logs = [p for p in events_dir.iterdir() if p.name.startswith(("eventlog_v2_", "local-", "app-"))]
    return sorted((p for p in logs if p.stat().st_ctime >= since), key=lambda p: p.stat().st_ctime)


def heaviest(found: dict, top: int = 8) -> list[dict]:
    """The `top` steps of a profile, for a results file: wall, executor and shuffle figures."""
    kept = ("step", "job_seconds", "executor_run_seconds", "executor_cpu_seconds", "gc_seconds",
            "shuffle_write_mb", "spill_disk_mb", "tasks", "slowest_sql")
    return [{k: row[k] for k in kept if k in row} for row in found["steps"][:top]]


def table(found: dict, top: int) -> str:
    """The heaviest steps as a text table."""
    columns = ("job_seconds", "executor_run_seconds", "executor_cpu_seconds", "gc_seconds", "input_mb",
               "shuffle_write_mb", "spill_disk_mb", "tasks")
    lines = [f"{found['log']}: application {found['application_seconds']} s, in jobs {found['job_seconds']} s",
             f"{'step':48} " + " ".join(f"{c.replace('_seconds', ' s').replace('_mb', ' MB'):>14}" for c in columns)]
    for row in found["steps"][:top]:
        lines.append(f"{row['step'][:48]:48} " + " ".join(f"{row.get(c, 0):>14,.1f}" for c in columns))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="an event log folder (eventlog_v2_...) or file")
    parser.add_argument("--name", help="write bench/results/<name>.json")
    parser.add_argument("--top", type=int, default=15, help="steps printed")
    args = parser.parse_args(argv)
    found = profile(args.log)
    print(table(found, args.top))
    if args.name:
        print(f"written to {report(args.name, found)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
