"""One writer at a time on a lake: the second run stops at once and names the first."""
import json
import socket
import subprocess

import pytest

from jobs import build_panel, ingest, pipeline, preflight, score, session
from jobs.lock import LOCK_NAME, LakeLocked, lake_lock


def hold(lake, pid, host=None):
    """A lock file as another run on `host` (this machine by default) with `pid` leaves it."""
    lake.mkdir(parents=True, exist_ok=True)
    holder = {"host": host or socket.gethostname(), "pid": pid, "since": "2026-12-01T06:00:00+00:00",
              "command": "jobs/pipeline.py --conf conf/cluster.yaml"}
    (lake / LOCK_NAME).write_text(json.dumps(holder))


def test_a_second_run_is_refused_with_the_first_named(tmp_path):
    other = subprocess.Popen(["sleep", "60"])
    try:
        hold(tmp_path / "lake", other.pid)
        with pytest.raises(LakeLocked, match=rf"another run writes the lake .*: pid {other.pid} on .* since "
                                             r"2026-12-01T06:00:00\+00:00 \(jobs/pipeline.py"):
            with lake_lock(tmp_path / "lake"):
                pytest.fail("the block must not run")
        assert (tmp_path / "lake" / LOCK_NAME).exists()  # the holder's lock stays
    finally:
        other.kill()
        other.wait()


def test_a_lock_on_another_machine_is_never_taken_over(tmp_path):
    hold(tmp_path / "lake", 1, host="worker-elsewhere")
    with pytest.raises(LakeLocked, match="pid 1 on worker-elsewhere"):
        with lake_lock(tmp_path / "lake"):
            pass


def test_a_dead_runs_lock_is_taken_over_and_the_lock_is_reentrant_and_released(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    hold(tmp_path / "lake", dead.pid)
    with lake_lock(tmp_path / "lake"):
        held = json.loads((tmp_path / "lake" / LOCK_NAME).read_text())
        with lake_lock(tmp_path / "lake"):  # a stage within the pipeline
            pass
        assert (tmp_path / "lake" / LOCK_NAME).exists()
    assert held["pid"] != dead.pid
    assert not (tmp_path / "lake" / LOCK_NAME).exists()


def test_a_stage_refuses_a_locked_lake_before_reading_anything(spark, conf, tmp_path):
    other = subprocess.Popen(["sleep", "60"])
    try:
        hold(tmp_path / "lake", other.pid)
        locked = conf.with_overrides(raw_dir=str(tmp_path / "missing"), lake_dir=str(tmp_path / "lake"))
        # The raw folder does not exist: the lock is what stops the stage, before it looks.
        with pytest.raises(LakeLocked, match=f"pid {other.pid}"):
            ingest.run(spark, locked)
    finally:
        other.kill()
        other.wait()


@pytest.mark.parametrize("job", [ingest, build_panel, score, pipeline])
def test_a_refused_job_stops_before_it_starts_spark(job, tmp_path, monkeypatch):
    other = subprocess.Popen(["sleep", "60"])
    started = []
    fake = lambda conf, app_name=None: started.append(app_name)  # noqa: E731
    monkeypatch.setattr(session, "build_session", fake)
    monkeypatch.setattr(job, "build_session", fake, raising=False)  # wherever the job takes it from
    monkeypatch.setattr(preflight, "check", lambda conf, uses_mlflow=False: None)
    try:
        hold(tmp_path / "lake", other.pid)
        with pytest.raises(LakeLocked, match=f"pid {other.pid}"):
            job.main(["--raw-dir", str(tmp_path), "--lake-dir", str(tmp_path / "lake")])
        assert started == []  # no session: on a cluster, no executors taken
    finally:
        other.kill()
        other.wait()
