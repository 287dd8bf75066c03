"""bench/profile_events.py on a hand-written event log: time and bytes per pipeline step."""
import json

import pytest
import zstandard

from bench import profile_events, summary
from bench.profile_events import SQL_END, SQL_START


def task(stage, run_ms, cpu_ns, shuffle_bytes=0, failed=False):
    return {"Event": "SparkListenerTaskEnd", "Stage ID": stage, "Task Info": {"Failed": failed},
            "Task Metrics": {"Executor Run Time": run_ms, "Executor CPU Time": cpu_ns, "JVM GC Time": 100,
                             "Disk Bytes Spilled": 0, "Input Metrics": {"Bytes Read": 2_000_000},
                             "Shuffle Read Metrics": {"Remote Bytes Read": 0, "Local Bytes Read": 0},
                             "Shuffle Write Metrics": {"Shuffle Bytes Written": shuffle_bytes}}}


def job(job_id, stages, description, start, end, execution=None):
    properties = {"spark.job.description": description}
    if execution is not None:
        properties["spark.sql.execution.id"] = str(execution)
    return [{"Event": "SparkListenerJobStart", "Job ID": job_id, "Submission Time": start, "Stage IDs": stages,
             "Properties": properties},
            {"Event": "SparkListenerJobEnd", "Job ID": job_id, "Completion Time": end}]


EVENTS = [
    {"Event": "SparkListenerApplicationStart", "Timestamp": 0},
    {"Event": SQL_START, "executionId": 7, "time": 1_000,
     "physicalPlanDescription": "== Physical Plan ==\n* Project (3)\n+- * SortMergeJoin Inner (2)\n   :- Scan parquet (1)\n\n"},
    *job(0, [0, 1], "build_panel: perimeter", 1_000, 31_000, execution=7),
    task(0, 20_000, 15e9, shuffle_bytes=5_000_000), task(1, 10_000, 5e9),
    {"Event": SQL_END, "executionId": 7, "time": 31_000},
    *job(1, [2], "ingest debts", 31_000, 36_000),
    task(2, 4_000, 3e9, failed=True),
    {"Event": "SparkListenerApplicationEnd", "Timestamp": 40_000},
]


@pytest.fixture(params=["plain", "zstd"])
def event_log(request, tmp_path):
    """The events as Spark writes them: a rolling log folder, its file plain or zstd-compressed."""
    folder = tmp_path / "eventlog_v2_local-1"
    folder.mkdir()
    text = "".join(json.dumps(e) + "\n" for e in EVENTS).encode()
    if request.param == "zstd":
        (folder / "events_1_local-1.zstd").write_bytes(zstandard.ZstdCompressor().compress(text))
    else:
        (folder / "events_1_local-1").write_bytes(text + b'{"Event": "cut sho')  # a log cut mid-event
    return folder


def test_time_and_bytes_add_up_per_step_heaviest_first(event_log):
    found = profile_events.profile(event_log)
    assert found["application_seconds"] == 40.0 and found["job_seconds"] == 35.0
    perimeter, debts = found["steps"]
    assert perimeter["step"] == "build_panel: perimeter" and debts["step"] == "ingest debts"
    assert perimeter["job_seconds"] == 30.0 and perimeter["executor_run_seconds"] == 30.0
    assert perimeter["executor_cpu_seconds"] == 20.0 and perimeter["shuffle_write_mb"] == 5.0
    assert perimeter["input_mb"] == 4.0 and perimeter["tasks"] == 2 and perimeter["gc_seconds"] == 0.2
    assert perimeter["slowest_sql"] == {"seconds": 30.0, "operators": ["Project", "SortMergeJoin Inner", "Scan parquet"]}
    assert debts["failed_tasks"] == 1 and "slowest_sql" not in debts


def test_the_summary_shows_each_stages_heaviest_steps(event_log):
    steps = profile_events.heaviest(profile_events.profile(event_log), top=1)
    results = {"national": {"stages": {"build_panel": {"profile": [{"log": event_log.name, "steps": steps}]}}}}
    lines = summary.profile_lines(results)
    assert "`national` build_panel:" in lines
    assert "| build_panel: perimeter | 30 | 30 | 20 | 0 | 5 | 0 | Project / SortMergeJoin Inner / Scan parquet |" in lines
