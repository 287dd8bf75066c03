"""What makes a run readable while it runs: Spark job descriptions per stage."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from pyspark.sql import SparkSession


@contextmanager
def stage(session: SparkSession, name: str) -> Iterator[None]:
    """Label the Spark jobs run inside the block, so the Spark UI reads like the pipeline."""
    context = session.sparkContext
    context.setJobDescription(name)
    try:
        yield
    finally:
        context.setJobDescription(None)
