"""The one factory of SparkSessions: master, Delta extensions, UTC, shuffle partitions, from conf."""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from jobs.config import Config
from jobs.lock import lake_lock
from jobs.preflight import check_delta_classes, check_master

log = logging.getLogger(__name__)

MIN_JAVA = 17


class SetupError(RuntimeError):
    """The machine lacks something Spark needs (Java, Delta's jars); the message says what to do."""


def check_java() -> int:
    """Return the major version of the `java` Spark will use; raise a clear error if too old or absent."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise SetupError(
            f"Java {MIN_JAVA} or newer is required by Spark and was not found: install a JDK "
            f"{MIN_JAVA} (e.g. `apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME."
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise SetupError(f"could not read the Java version from `{java} -version`: {out!r}")
    major = int(match.group(1))
    if major == 1:  # "1.8.0" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise SetupError(
            f"Spark needs Java {MIN_JAVA} or newer; `{java}` is Java {major}. "
            f"Install a newer JDK or point JAVA_HOME at one."
        )
    return major


def spark_jars_dir() -> Path:
    """The jars folder of the installed PySpark: the classpath of `python -m` and `spark-submit`."""
    import pyspark

    return Path(pyspark.__file__).parent / "jars"


def check_delta_jars(conf: Config) -> None:
    """Raise a clear error unless every Delta jar named in conf is on the local Spark's classpath."""
    names = {"{1}-{2}.jar".format(*c.split(":")) for c in conf["spark"]["delta_jars"]}
    missing = sorted(n for n in names if not (spark_jars_dir() / n).exists())
    if missing:
        raise SetupError(
            f"Delta Lake's jars are not installed in {spark_jars_dir()} ({', '.join(missing)}): "
            f"run `make jars` once (downloads them from Maven Central into .cache/jars)."
        )


def _launched_by_spark_submit() -> bool:
    # spark-submit starts the JVM first and hands PySpark its gateway port.
    return "PYSPARK_GATEWAY_PORT" in os.environ


def build_session(conf: Config, app_name: str | None = None, master: str | None = None) -> SparkSession:
    """Create (or reuse) the SparkSession configured by `conf["spark"]`, with Delta enabled.

    Under `spark-submit` the master and the classpath are the launcher's (on a cluster, add Delta
    with `--jars` or `--packages`); otherwise the master comes from conf (or `master`), and Delta's
    jars are those `make jars` installed into the local Spark, so no network is needed. Either
    way, an unreachable `spark://` master or missing Delta classes fail here with one line.
    """
    spark_conf = conf["spark"]
    builder = SparkSession.builder.appName(app_name or spark_conf["app_name"])
    if _launched_by_spark_submit():
        # The launcher's JVM is up: ask it for its master and whether Delta's classes are there.
        SparkContext._ensure_initialized()
        check_master(SparkConf().get("spark.master", None))
        check_delta_classes(SparkContext._jvm)
    else:
        check_java()
        # Python workers (pandas functions) must run this interpreter, not whatever `python3` is on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        check_delta_jars(conf)
        master = master or spark_conf.get("master") or "local[*]"
        check_master(master)
        builder = builder.master(master)
        if conf.get("bind_host"):  # nothing listens beyond this machine unless conf says so
            builder = builder.config("spark.driver.bindAddress", conf["bind_host"]).config(
                "spark.driver.host", conf["bind_host"])
    for key, value in (spark_conf.get("settings") or {}).items():
        if value is not None:
            builder = builder.config(key, str(value))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(spark_conf.get("log_level", "WARN"))
    return session


@contextmanager
def writer_session(conf: Config, app_name: str) -> Iterator[SparkSession]:
    """The session of a stage that writes conf's lake, built once it holds the lake's lock: a run
    the lock refuses stops before it starts Spark (on a cluster, before it takes executors)."""
    with lake_lock(conf.path("lake_dir")):
        yield build_session(conf, app_name=app_name)


@contextmanager
def session_settings(session: SparkSession, settings: Mapping[str, object] | None) -> Iterator[None]:
    """Set runtime SQL settings for the block and restore the previous values after it, so a stage
    tuned for its own work does not reconfigure the stages that share its session."""
    settings = settings or {}
    previous = {key: session.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        session.conf.set(key, str(value))
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                session.conf.unset(key)
            else:
                session.conf.set(key, value)
