"""Checks a stage runs before any work, so that a bad configuration fails at once with one clear
line instead of minutes later in a Spark stack trace: conf keys, the lake's folder, the Spark
master, Delta's classes, the MLflow store.

Each check raises a PreflightError whose message names what is wrong and what to do.
"""
from __future__ import annotations

import difflib
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import urlparse

from jobs.config import Config

# Sections whose keys are free (Spark settings, per-source or per-region maps, benchmark scales):
# the reference configuration cannot list them, so their keys are not checked.
OPEN_SECTIONS = (
    ("spark", "settings"),
    ("ingest", "encodings"),
    ("ingest", "spark_settings"),
    ("scoring", "alerts", "new_high_cap"),
    ("bench",),
)
DELTA_CLASS = "io.delta.sql.DeltaSparkSessionExtension"
TIMEOUT_SECONDS = 5


class PreflightError(RuntimeError):
    """A stage cannot start: the configuration or the machine lacks something it needs."""


def _leaves(data: Mapping, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in data.items():
        path = (*prefix, str(key))
        if path in OPEN_SECTIONS:
            yield path, value
        elif isinstance(value, Mapping) and value:
            yield from _leaves(value, path)
        else:
            yield path, value


def _lookup(data: Mapping, path: tuple[str, ...]) -> tuple[bool, Any]:
    for key in path:
        if not isinstance(data, Mapping) or key not in data:
            return False, None
        data = data[key]
    return True, data


def check_keys(conf: Mapping, reference: Mapping, removed: frozenset[tuple[str, ...]] = frozenset()) -> None:
    """Raise a PreflightError on the first key of `conf` that `reference` (the base
    configuration) does not have, with the nearest known key, or the first key of `reference`
    missing from `conf` (keys set to null on purpose, `removed`, excepted)."""
    for path, _ in _leaves(conf):
        known, _ = _lookup(reference, path)
        if not known and not any(path[: len(open_)] == open_ for open_ in OPEN_SECTIONS):
            parent_known, siblings = _lookup(reference, path[:-1])
            names = list(siblings) if parent_known and isinstance(siblings, Mapping) else []
            close = difflib.get_close_matches(path[-1], names, n=1)
            hint = f" (did you mean {'.'.join((*path[:-1], close[0]))}?)" if close else ""
            raise PreflightError(f"conf key {'.'.join(path)} is unknown{hint}")
    for path, _ in _leaves(reference):
        if any(path[: len(r)] == r for r in removed):
            continue
        present, _ = _lookup(conf, path)
        if not present:
            raise PreflightError(f"conf key {'.'.join(path)} is missing (see conf/base.yaml)")


def check_writable_folder(path: Path, what: str) -> None:
    """Raise unless `path` is a folder this process can write, or can be created in one (its
    parent exists and is writable): a shared lake path that is not mounted fails here."""
    folder = path if path.exists() else path.parent
    if not folder.is_dir():
        raise PreflightError(f"{what} {path} does not exist, nor does its parent folder {folder}")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".preflight-"):
            pass
    except OSError as error:
        raise PreflightError(f"{what} {folder} cannot be written: {error.strerror or error}") from None


def check_master(master: str | None) -> None:
    """Raise unless a `spark://host:port` master accepts a connection (local masters pass)."""
    if not master or not master.startswith("spark://"):
        return
    for address in master[len("spark://"):].split(","):
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=TIMEOUT_SECONDS):
                return
        except (OSError, ValueError):
            continue
    raise PreflightError(f"Spark master {master} cannot be reached (is it started, and the address right?)")


def check_delta_classes(jvm) -> None:
    """Raise unless the driver's JVM can load Delta's session extension (the jars are missing)."""
    try:
        jvm.java.lang.Class.forName(DELTA_CLASS)
    except Exception:  # Py4JJavaError wraps ClassNotFoundException
        raise PreflightError(
            f"Delta Lake's classes ({DELTA_CLASS}) are not on the driver's classpath: locally run `make jars`; "
            "with spark-submit pass --jars dist/jars/*.jar (see `make package`) or --packages"
        ) from None


def check_mlflow(conf: Config) -> None:
    """Raise unless conf's MLflow store can be used: a SQLite file in a writable folder, or a
    tracking server that answers its health check."""
    from jobs.tracking import tracking_uri

    uri = tracking_uri(conf)
    scheme = urlparse(uri).scheme
    if scheme == "sqlite":
        check_writable_folder(Path(uri[len("sqlite:///"):]).parent, "MLflow store folder")
    elif scheme in ("http", "https"):
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=TIMEOUT_SECONDS) as response:
                if response.status != 200:
                    raise PreflightError(f"MLflow tracking server {uri} answers {response.status} to /health")
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise PreflightError(f"MLflow tracking server {uri} cannot be reached: {reason}") from None


def check(conf: Config, uses_mlflow: bool = False) -> None:
    """What a stage checks before it builds its session: conf keys (against the base
    configuration, `Config.reference`), the lake's folder and, when `uses_mlflow`, the MLflow
    store. The session factory checks the master and Delta's classes (jobs/session.py)."""
    if conf.reference is not None:
        check_keys(conf, conf.reference, conf.removed)
    check_writable_folder(conf.path("lake_dir"), "lake folder")
    if uses_mlflow:
        check_mlflow(conf)

