"""jobs.score on a tiny panel with tiny champions: partitions, firms in proceedings, first alerts,
re-scoring a month."""
import datetime as dt

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from jobs import delta_io, score
from tests.jobs.session_settings import settings_kept
from tests.training.tiny_gbt import tiny_champions, tiny_panel_month

MAY, JUNE = dt.date(2024, 5, 1), dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def lake(spark, conf, tmp_path_factory):
    """May then June scored by the job's scoring function; firms 50-54 failed in June."""
    root = tmp_path_factory.mktemp("score")
    lake = root / "lake"
    failed = F.col("siren").between("000000050", "000000054")
    june = tiny_panel_month(spark, JUNE, seed=11).withColumns(
        {"after_failure": failed, "failure_date": F.when(failed, F.lit(JUNE))}
    )
    delta_io.overwrite(tiny_panel_month(spark, MAY, seed=21).unionByName(june), lake / "panel", ["period"])
    with tiny_champions(conf, spark, root) as uri:
        job_conf = conf.with_overrides(lake_dir=str(lake))
        job_conf["mlflow"] = {**conf["mlflow"], "tracking_uri": uri}
        done = score.run(spark, job_conf, [JUNE, MAY])
        assert done["periods"] == ["2024-05", "2024-06"]
        yield lake, ["--lake-dir", str(lake), "--mlflow-uri", uri]


def scores_of(spark, lake, period):
    return {r.siren: r for r in delta_io.read(spark, lake / "scores").where(F.col("period") == period).collect()}


def test_scores_are_partitioned_by_region_and_period(spark, lake):
    path = lake[0] / "scores"
    assert DeltaTable.forPath(spark, str(path)).detail().first().partitionColumns == ["region", "period"]
    assert (path / "region=27" / "period=2024-06-01").is_dir() and (path / "region=11" / "period=2024-05-01").is_dir()


def test_live_firms_are_scored_and_firms_in_proceedings_listed_apart(spark, lake):
    june = scores_of(spark, lake[0], JUNE)
    in_proceedings = delta_io.read(spark, lake[0] / "in_proceedings").where(F.col("period") == JUNE).collect()
    assert len(scores_of(spark, lake[0], MAY)) == 60 and len(june) == 55
    assert sorted(r.siren for r in in_proceedings) == [f"0000000{i}" for i in range(50, 55)]
    assert not set(june) & {r.siren for r in in_proceedings}
    assert {r.model_version for r in june.values()} == {"failure_12m:1,failure_18m:1,failure_24m:1"}


def test_first_alert_means_no_alert_in_the_months_before(spark, lake):
    alerted_in_may = {s for s, r in scores_of(spark, lake[0], MAY).items() if r.alert_level != "none"}
    june = scores_of(spark, lake[0], JUNE).values()
    assert any(r.alert_level != "none" and r.siren in alerted_in_may for r in june)
    for r in june:
        assert r.first_alert == (r.alert_level != "none" and r.siren not in alerted_in_may)


def test_new_high_alerts_respect_the_cap_of_region_27(spark, conf, lake):
    high_in_may = {s for s, r in scores_of(spark, lake[0], MAY).items() if r.alert_level == "high"}
    june = scores_of(spark, lake[0], JUNE).values()
    new_highs = [r for r in june if r.region == "27" and r.alert_level == "high" and r.siren not in high_in_may]
    assert len(new_highs) <= conf["scoring"]["alerts"]["new_high_cap"]["27"]
    capped = [r for r in june if r.region == "27" and r.alert_level == "moderate" and r.p_18m >= 0.5]
    assert not capped or min(r.p_18m for r in new_highs) >= max(r.p_18m for r in capped)


def test_rescoring_a_month_replaces_exactly_its_rows_in_one_commit(spark, lake):
    path, args = lake[0] / "scores", lake[1]
    before_version = delta_io.current_version(spark, path)
    may_before, june_before = scores_of(spark, lake[0], MAY), scores_of(spark, lake[0], JUNE)
    with settings_kept(spark):
        assert score.main(args) == 0  # the latest month of the panel by default
    assert delta_io.current_version(spark, path) == before_version + 1
    last = DeltaTable.forPath(spark, str(path)).history(1).first()
    assert "2024-06-01" in last.operationParameters["predicate"]
    assert scores_of(spark, lake[0], MAY) == may_before
    assert scores_of(spark, lake[0], JUNE) == june_before
