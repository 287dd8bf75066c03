"""Fixtures of the tests marked `cluster` (a plugin of tests/conftest.py).

What the cluster tests check (tests/cluster/scenarios.py) is started as the test session starts,
in the background, when any `cluster` test is selected: it spends minutes in processes of its own
(the submitted drivers, the executors) while the local tests run; the cluster tests come last
(tests/conftest.py) and wait for what they assert on.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.cluster.harness import started_cluster, stop
from tests.cluster.scenarios import (
    kill_the_driver_while_it_writes_the_scores, stop_the_tracking_server_during_training,
    two_pipelines_at_once_losing_worker_1,
)
from tools.package import build


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A master, two workers and a tracking server on 127.0.0.1, stopped at the end."""
    with started_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(scope="session")
def package(tmp_path_factory):
    """What `make package` builds: the wheel, conf/ and Delta's jars."""
    return build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session", autouse=True)
def cluster_scenarios(request, tmp_path_factory) -> dict[str, Future] | None:
    """tests/cluster/scenarios.py on the cluster, started with the session when a `cluster` test
    is selected (else None): the first run, then the killed driver and the stopped tracking
    server side by side. Futures by name: `first`, `driver_killed`, `tracking_stopped`."""
    if not any(item.get_closest_marker("cluster") for item in request.session.items):
        yield None
        return
    spark, cluster, package = (request.getfixturevalue(name) for name in ("spark", "cluster", "package"))
    delivery = request.getfixturevalue("tiny_delivery")
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="cluster") as pool:
        first = pool.submit(two_pipelines_at_once_losing_worker_1, cluster, package, delivery,
                            tmp_path_factory.mktemp("on_cluster"))
        futures = {
            "first": first,
            "driver_killed": pool.submit(lambda: kill_the_driver_while_it_writes_the_scores(
                spark, cluster, package, first.result())),
            "tracking_stopped": pool.submit(lambda: stop_the_tracking_server_during_training(
                cluster, package, first.result(), tmp_path_factory.mktemp("tracking_stops"))),
        }
        yield futures
        if not all(future.done() for future in futures.values()):
            # The session was cut short: the submitted stages go, and the threads with them.
            for process in cluster.processes.started:
                if process.args[0].endswith("spark-submit"):
                    stop(process)
