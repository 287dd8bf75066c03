"""What makes a run readable while it runs (Spark job descriptions per stage), and independent
Spark work run side by side."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence, TypeVar

from pyspark.sql import SparkSession
from pyspark.util import inheritable_thread_target

T = TypeVar("T")


@contextmanager
def stage(session: SparkSession, name: str) -> Iterator[None]:
    """Label the Spark jobs run inside the block, so the Spark UI reads like the pipeline."""
    context = session.sparkContext
    context.setJobDescription(name)
    try:
        yield
    finally:
        context.setJobDescription(None)


def run_concurrently(session: SparkSession, tasks: Sequence[Callable[[], T]], workers: int) -> list[T]:
    """Call every task, up to `workers` at once, and return their results in task order.

    Spark runs the jobs of several threads side by side: while one thread's query is planned or
    its Delta commit written on the driver, the executors run another's tasks. The threads see
    the caller's Spark job properties and tags. The first task to fail raises once every task has
    ended, so that no write is cut off halfway.
    """
    if workers <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # One wrap per task: a wrap clones the caller's properties once, and the tasks of one wrap
        # would share that copy, so a job description set in one thread would label them all.
        futures = [pool.submit(inheritable_thread_target(session)(task)) for task in tasks]
    return [future.result() for future in futures]
