"""The pipeline submitted to a real standalone cluster with a shared tracking server: same tables
as a local run, and the faults a cluster has (a lost worker, a killed driver, two refreshes at
once, a tracking server that stops)."""
from __future__ import annotations

import pytest
from chispa import assert_df_equality

from ingestion.registry import SOURCES
from jobs import delta_io
from jobs.lake import Lake

pytestmark = pytest.mark.cluster


def tables(spark, lake: Lake) -> dict:
    """The tables a run leaves that must not depend on where it ran."""
    found = {f"bronze/{s.name}": lake.bronze(s.name) for s in SOURCES if delta_io.table_exists(spark, lake.bronze(s.name))}
    found.update(quarantine=lake.quarantine, panel=lake.panel, scores=lake.scores)
    return {name: delta_io.read(spark, path) for name, path in found.items()}


def assert_same_tables(spark, a: Lake, b: Lake) -> None:
    left, right = tables(spark, a), tables(spark, b)
    assert sorted(left) == sorted(right)
    for name in left:
        assert_df_equality(left[name], right[name].select(*left[name].columns), ignore_row_order=True,
                           ignore_nullable=True)


@pytest.fixture(scope="module")
def runs(cluster_scenarios, tiny_lake):
    """The cluster's first run (tests/cluster/scenarios.py: the tiny delivery less its last batch,
    submitted twice at once, worker-1 killed while the panel builds), and the local run of the
    same delivery (the shared tiny lake: this session's Spark, a local SQLite store)."""
    done = cluster_scenarios["first"].result()
    return {**done, "local": tiny_lake.lake, "cluster": done["lake"],
            "texts": [log.read_text() for log in done["logs"]]}


def running_log(runs) -> str:
    """What the run that took the lake said (the one that exited 0)."""
    return runs["texts"][runs["statuses"].index(0)]


def test_the_cluster_run_equals_the_local_run(spark, runs):
    assert_same_tables(spark, runs["local"], runs["cluster"])
    assert delta_io.read(spark, runs["cluster"].scores).count() > 0


def test_a_worker_killed_while_the_panel_builds_leaves_the_run_to_the_other(runs):
    # Killed after ingestion and before the panel was done; the run then completed on worker-2
    # (and its panel equals the local one: the test above).
    assert "pipeline: ingest done" in runs["said_at_kill"] and "pipeline: panel done" not in runs["said_at_kill"]
    assert "pipeline: panel done" in running_log(runs) and "pipeline: score done" in running_log(runs)


def test_two_refreshes_at_once_one_runs_the_other_names_it(spark, runs):
    assert sorted(runs["statuses"]) == [0, 1], [text[-2000:] for text in runs["texts"]]
    refused = runs["texts"][runs["statuses"].index(1)]
    assert "error: LakeLocked: another run writes the lake" in refused and "jobs/pipeline.py" in refused
    assert "pipeline: ingest" not in refused  # stopped before any work
    lake = runs["cluster"]
    logged = delta_io.read(spark, lake.ingest_log)
    assert logged.count() == logged.select("batch", "file").distinct().count() > 0  # each file ingested once
    scores = delta_io.read(spark, lake.scores)
    assert scores.count() == scores.select("siren", "period").distinct().count() > 0  # no firm scored twice


def test_a_driver_killed_while_it_writes_the_scores(spark, runs, cluster_scenarios):
    seen, scores = cluster_scenarios["driver_killed"].result(), runs["cluster"].scores
    assert seen["after_kill"] == seen["before"]  # no commit: the table reads at its previous version
    assert seen["rerun_status"] == 0, seen["rerun_log"][-3000:]
    assert delta_io.current_version(spark, scores) > seen["before"]["version"]
    assert_df_equality(delta_io.read(spark, scores), delta_io.read(spark, scores, seen["before"]["version"]),
                       ignore_row_order=True)


def test_a_tracking_server_stopped_during_training_fails_clearly_and_promotes_nothing(cluster_scenarios):
    seen = cluster_scenarios["tracking_stopped"].result()
    assert seen["status"] != 0
    said = f"error: TrackingUnavailable: MLflow tracking server {seen['uri']} stopped answering during the training"
    assert any(line.startswith(said) for line in seen["log"].splitlines()), seen["log"][-3000:]
    assert seen["champion"] is None
