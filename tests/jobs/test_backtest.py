"""jobs.backtest on the tiny lake, whose champion learnt from calm months: the months across the
2020 shock scored into their own table, measured, logged, and the drift watch raising its flag
when the shock comes and not before."""
import copy
import math
import datetime as dt

import mlflow
import pandas as pd
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from features.calendar import month_range
from jobs import backtest, delta_io
from scoring.drift import BACKTEST, MONTH
from tests.tiny_lake import mlflow_kept

FIRST, LAST = dt.date(2019, 9, 1), dt.date(2020, 5, 1)
SHOCK = dt.date(2020, 3, 1)  # the generator's conf: generator.economy.shock.month


@pytest.fixture(scope="module")
def backtested(spark, tiny_lake):
    """The tiny lake's 2019-09..2020-05 back-tested with its champions; failures measured with 3
    back-tested months before them (the range is short), precision on the one horizon it has."""
    conf = copy.deepcopy(tiny_lake.conf)
    conf["backtest"].update(months_before=3, lead_window_months=12, precision_horizon=12)
    scores_version = delta_io.current_version(spark, tiny_lake.lake.scores)
    with mlflow_kept():
        done = backtest.run(spark, conf, FIRST, LAST)
    return conf, done, scores_version


def test_every_month_is_scored_into_the_backtest_table_and_the_scores_are_untouched(spark, tiny_lake, backtested):
    _, done, scores_version = backtested
    lake = tiny_lake.lake
    assert delta_io.current_version(spark, lake.scores) == scores_version
    assert done["periods"][0] == "2019-09" and done["periods"][-1] == "2020-05" and len(done["periods"]) == 9
    rows = delta_io.read(spark, lake.backtest)
    panel = delta_io.read(spark, lake.panel).where(F.col("period").between(FIRST, LAST) & ~F.col("after_failure"))
    per_month = {r.period: r["count"] for r in rows.groupBy("period").count().collect()}
    assert per_month == {r.period: r["count"] for r in panel.groupBy("period").count().collect()}
    assert {r.model_version for r in rows.select("model_version").distinct().collect()} == {done["models"]}
    assert rows.count() == rows.select("siren", "period", "model_version").distinct().count()


def test_the_drift_flag_rises_with_the_shock_and_not_in_the_calm_months_before(spark, tiny_lake, backtested):
    monitoring = delta_io.read(spark, tiny_lake.lake.monitoring).where(F.col("source") == BACKTEST)
    months = {r.period: r for r in monitoring.where(F.col("kind") == MONTH).collect()}
    assert sorted(months) == month_range(FIRST, LAST)
    calm = [p for p in months if p < SHOCK]
    assert not any(months[p].drifting for p in calm), {p: months[p].importance for p in calm}
    first_shock_months = [SHOCK, dt.date(2020, 4, 1), dt.date(2020, 5, 1)]
    assert any(months[p].drifting for p in first_shock_months), {p: months[p].importance for p in months}
    assert backtested[1]["drifting"] == sorted(f"{p:%Y-%m}" for p in months if months[p].drifting)
    # The live months are kept apart: the pipeline watched only the month it scored.
    live = delta_io.read(spark, tiny_lake.lake.monitoring).where(F.col("source") == "live")
    assert {r.period for r in live.select("period").distinct().collect()} == set(delta_io.periods(
        spark, tiny_lake.lake.scores))


def test_the_report_is_logged_as_a_backtest_run(tiny_lake, backtested):
    conf, done, _ = backtested
    client = mlflow.MlflowClient(conf["mlflow"]["tracking_uri"])
    run = client.get_run(done["run_id"])
    assert run.data.tags["run_kind"] == "backtest" and run.data.params["models"] == done["models"]
    metrics = run.data.metrics
    assert metrics["failures_measured"] == done["metrics"]["failures_measured"] > 0
    assert 0 <= metrics["lead_any_share_6m_ahead"] <= 1 and metrics["lead_any_months_p50"] >= 0
    assert metrics["new_high_alerts_per_month"] >= 0
    plots = {a.path for a in client.list_artifacts(done["run_id"], "plots")}
    assert plots == {"plots/backtest_lead_time.png", "plots/backtest_precision_by_month.png",
                     "plots/backtest_new_high_alerts.png"}


def test_rerunning_a_month_changes_nothing(spark, tiny_lake, backtested):
    conf = backtested[0]
    before = delta_io.read(spark, tiny_lake.lake.backtest).cache()
    before.count()
    with mlflow_kept():
        backtest.run(spark, conf, LAST, LAST)
    assert_df_equality(delta_io.read(spark, tiny_lake.lake.backtest), before, ignore_row_order=True)
    before.unpersist()


def test_bad_arguments_fail_with_a_clear_message(spark, tiny_lake):
    with pytest.raises(ValueError, match="expected --models as name:version"):
        backtest.parse_models("failure_12m")
    assert backtest.parse_models("failure_12m:3, failure_18m:2") == {"failure_12m": "3", "failure_18m": "2"}
    with pytest.raises(ValueError, match="--to 2019-01 is before --from 2019-05"):
        backtest.run(spark, tiny_lake.conf, dt.date(2019, 5, 1), dt.date(2019, 1, 1))
    with mlflow_kept(), pytest.raises(LookupError, match="failure_99m not among the horizons' models"):
        backtest.run(spark, tiny_lake.conf, FIRST, FIRST, {"failure_99m": "1"})


def test_new_high_alerts_per_month_leave_out_the_first_month():
    # In its first month the back-test has no month before: every high alert there counts as new.
    new_high = pd.DataFrame({"period": [dt.date(2020, 1, 1), dt.date(2020, 1, 1), dt.date(2020, 2, 1),
                                        dt.date(2020, 3, 1)],
                             "region": ["27", "11", "27", "27"], "new_high_alerts": [40, 60, 2, 4]})
    assert backtest.new_per_month(new_high, dt.date(2020, 1, 1), dt.date(2020, 3, 1)) == 3.0
    assert math.isnan(backtest.new_per_month(new_high, dt.date(2020, 1, 1), dt.date(2020, 1, 1)))
