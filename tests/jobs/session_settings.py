"""Calling a job's main() in a test: keep the test session's runtime settings."""
import contextlib

RUNTIME_SETTINGS = ("spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled")


@contextlib.contextmanager
def settings_kept(spark):
    """A job's build_session applies conf's settings to the running session: put the tests' back."""
    kept = {key: spark.conf.get(key) for key in RUNTIME_SETTINGS}
    try:
        yield
    finally:
        for key, value in kept.items():
            spark.conf.set(key, value)
