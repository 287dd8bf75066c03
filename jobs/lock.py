"""One writer at a time on a lake: a lock file created atomically beside its tables.

Two refreshes started at once on the same lake would both see the same batches as new and both
ingest and score them. Delta's own conflict detection stops two commits that overlap, but not two
runs that each commit a consistent table in turn; the lock stops the second run before it reads
anything, and its message names the run that holds the lake.

The file is created with O_CREAT | O_EXCL (atomic on local disks and NFS) and holds who took it.
The lock is re-entrant in one process (the pipeline takes it, then the stages it calls), and a
lock left by a dead process of this machine is taken over with a warning.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

log = logging.getLogger(__name__)

LOCK_NAME = "_refresh.lock"


class LakeLocked(RuntimeError):
    """Another run writes this lake; the message names it."""


def _holder() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


@contextmanager
def lake_lock(lake_dir: Path) -> Iterator[None]:
    """Hold the lake's lock for the block; raise LakeLocked when another live run holds it."""
    path = Path(lake_dir) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    me = _holder()
    held = _read(path)
    if held.get("host") == me["host"] and held.get("pid") == me["pid"]:
        yield  # this process holds it already: a stage within the pipeline
        return
    for _ in range(2):  # a second try after removing a dead run's lock
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            held = _read(path)
            if held.get("host") == me["host"] and isinstance(held.get("pid"), int) and not _alive(held["pid"]):
                log.warning("removing the lock of a run that died (pid %s since %s): %s", held["pid"], held.get("since"), path)
                path.unlink(missing_ok=True)
                continue
            raise LakeLocked(
                f"another run writes the lake {lake_dir}: pid {held.get('pid')} on {held.get('host')} since "
                f"{held.get('since')} ({held.get('command', '?')}); wait for it to end (or, if it died on another "
                f"machine, remove {path})"
            ) from None
    else:
        raise LakeLocked(f"could not take the lock {path}")
    with os.fdopen(descriptor, "w") as handle:
        json.dump(me, handle)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def locked(run: Callable) -> Callable:
    """A stage's `run(spark, conf, ...)` holding the lock of conf's lake while it runs."""

    @functools.wraps(run)
    def holding(spark, conf, *args, **kwargs):
        with lake_lock(conf.path("lake_dir")):
            return run(spark, conf, *args, **kwargs)

    return holding
