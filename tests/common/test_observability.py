"""Spark job labels per stage, and Spark work run side by side."""
import threading
import time

import pytest

from common.observability import run_concurrently, stage


def test_stage_labels_the_jobs_inside_the_block_only(spark):
    context = spark.sparkContext
    with stage(spark, "build_panel: perimeter"):
        assert context.getLocalProperty("spark.job.description") == "build_panel: perimeter"
    assert context.getLocalProperty("spark.job.description") is None


def test_tasks_run_side_by_side_and_return_in_order(spark):
    running, most = set(), []

    def task(n):
        def work():
            running.add(n)
            most.append(len(running))
            time.sleep(0.2)
            running.discard(n)
            return spark.range(n).count(), threading.current_thread().name
        return work

    results = run_concurrently(spark, [task(n) for n in range(5)], workers=3)
    assert [count for count, _ in results] == [0, 1, 2, 3, 4]
    assert 1 < max(most) <= 3
    assert len({name for _, name in results}) > 1
    assert run_concurrently(spark, [task(2)], workers=1)[0][1] == threading.current_thread().name


def test_threads_see_the_callers_job_properties(spark):
    context = spark.sparkContext
    context.setLocalProperty("early_warning.test", "from the caller")
    try:
        seen = run_concurrently(spark, [lambda: context.getLocalProperty("early_warning.test")] * 2, workers=2)
    finally:
        context.setLocalProperty("early_warning.test", None)
    assert seen == ["from the caller"] * 2


def test_each_task_labels_its_own_jobs(spark):
    # PySpark's wrapper clones the caller's properties once per wrap: tasks sharing one wrap share
    # one Properties object, and a label set in one thread would name every thread's jobs.
    together = threading.Barrier(3)

    def task(name):
        def work():
            with stage(spark, name):
                together.wait(timeout=30)
                return spark.sparkContext.getLocalProperty("spark.job.description")
        return work

    names = ["ingest ccsf", "ingest contributions", "ingest debts"]
    assert run_concurrently(spark, [task(name) for name in names], workers=3) == names


def test_a_failing_task_raises_once_every_task_has_ended(spark):
    finished = []

    def slow():
        time.sleep(0.5)
        finished.append("slow")

    def fails():
        raise RuntimeError("task failed")

    with pytest.raises(RuntimeError, match="task failed"):
        run_concurrently(spark, [fails, slow], workers=2)
    assert finished == ["slow"]
