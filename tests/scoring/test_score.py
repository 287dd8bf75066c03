"""Scoring a month with champion pipelines: probabilities, capped levels, first alerts, reasons."""
import datetime as dt
import math

import numpy as np
from chispa import assert_df_equality
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F

from features.catalog import THEMES
from tests.training.tiny_gbt import FEATURE_THEMES, tiny_model, tiny_panel_month
from scoring.alerts import AlertPolicy
from scoring.explain import extract_ensemble, path_contributions
from scoring.score import (
    ordered_horizons,
    HISTORY_SCHEMA, Champion, add_probabilities, firms_in_proceedings, live_firms, model_version_label, score_columns,
    score_period,
)

JUNE = dt.date(2024, 6, 1)


def champions(spark):
    model = tiny_model(spark)
    return [Champion(h, f"failure_{h}m", str(v), model, {}, FEATURE_THEMES) for h, v in ((12, 3), (18, 4), (24, 2))]


def firms(spark):
    return tiny_panel_month(spark, JUNE)


def test_live_firms_and_firms_in_proceedings_split_the_month(spark):
    panel = spark.createDataFrame(
        [("1", JUNE, False, None), ("2", JUNE, True, JUNE), ("3", JUNE, None, None),
         ("4", dt.date(2024, 5, 1), False, None)],
        "siren string, period date, after_failure boolean, failure_date date",
    ).select("*", *[F.lit(None).cast("string").alias(c) for c in ("region", "departement", "name", "town", "naf")],
             F.lit(None).cast("int").alias("headcount"))
    assert sorted(r.siren for r in live_firms(panel, JUNE).collect()) == ["1", "3"]
    assert [r.siren for r in firms_in_proceedings(panel, JUNE).collect()] == ["2"]


def test_every_model_sees_the_panel_values_not_a_previous_model_filled_ones(spark):
    model = tiny_model(spark)
    direct = model.transform(firms(spark)).select(
        "siren", vector_to_array("probability")[1].alias("p"), vector_to_array("features").alias("x")
    )
    scored = add_probabilities(firms(spark), champions(spark), keep_inputs_of=18, inputs_col="inputs", keep=["siren"],
                               values_col="values", value_columns=["margin_rate", "headcount"])
    # The firm's own values stay as the panel has them: a missing margin rate is null, not 0.
    own = firms(spark).select("siren", F.array(F.col("margin_rate"), F.col("headcount").cast("double")).alias("values"))
    expected = direct.join(own, "siren").select("siren", "values", F.col("p").alias("p_12m"), F.col("p").alias("p_18m"),
                                                F.col("p").alias("p_24m"), F.col("x").alias("inputs"))
    assert_df_equality(scored.select(*expected.columns), expected,
                       ignore_row_order=True, ignore_nullable=True)


def test_score_period_levels_cap_first_alerts_and_reasons(spark):
    policy = AlertPolicy(horizon=18, threshold_high=0.5, threshold_moderate=0.2, new_high_cap={"27": 2},
                         lookback_months=12, max_themes=2, max_features=2)
    history = spark.createDataFrame([("000000031", dt.date(2024, 3, 1), "moderate")], HISTORY_SCHEMA)
    scores = score_period(firms(spark), history, JUNE, champions(spark), policy)
    assert scores.columns == score_columns([12, 18, 24])
    rows = {r.siren: r for r in scores.collect()}
    assert len(rows) == 60

    for r in rows.values():
        level = "high" if r.p_18m >= 0.5 else "moderate" if r.p_18m >= 0.2 else "none"
        # The cap of region 27 only turns highs into moderates.
        assert r.alert_level == level or (r.region == "27" and level == "high" and r.alert_level == "moderate")
        assert r.model_version == "failure_12m:3,failure_18m:4,failure_24m:2"
        assert r.first_alert == (r.alert_level != "none" and r.siren != "000000031")
        assert (r.reasons_text != "") == (r.alert_level != "none") and (r.alert_level != "none" or not r.reasons)

    highs_27 = sorted((r.p_18m for r in rows.values() if r.region == "27" and r.p_18m >= 0.5), reverse=True)
    kept_27 = sorted((r.p_18m for r in rows.values() if r.region == "27" and r.alert_level == "high"), reverse=True)
    assert len(highs_27) > 2 and kept_27 == highs_27[:2]
    assert sum(r.alert_level == "high" for r in rows.values() if r.region == "11") > 2

    # Reasons are the model's own path contributions: check one alerted firm against numpy.
    alerted = max(rows.values(), key=lambda r: r.p_18m)
    x = np.array(
        add_probabilities(firms(spark).where(F.col("siren") == alerted.siren), champions(spark)[1:2], 18, "x", [],
                          "values", []).first().x
    ).reshape(1, -1)
    ensemble = extract_ensemble(tiny_model(spark).stages[-1])
    contributions = path_contributions(ensemble, x)[0]
    assert math.isclose(ensemble.base_value + contributions.sum(), math.log(alerted.p_18m / (1 - alerted.p_18m)))
    inputs = tiny_model(spark).stages[1].getInputCols()
    for reason in alerted.reasons:
        assert reason.contribution > 0
        assert math.isclose(reason.contribution, contributions[inputs.index(reason.feature)])
        assert FEATURE_THEMES[reason.feature.removesuffix("_missing")] == reason.theme
    # The text names the same first theme in French, with the firm's figures and no column name.
    assert alerted.reasons_text.startswith(f"{THEMES[alerted.reasons[0].theme]} : ")
    texts = [r.reasons_text for r in rows.values() if r.alert_level != "none"]
    assert texts and not any("_" in text for text in texts)
    assert any("effectif de 15\u00a0salariés (" in text for text in texts)


def test_model_version_label_lists_champions_by_horizon(spark):
    assert model_version_label(list(reversed(champions(spark)))) == "failure_12m:3,failure_18m:4,failure_24m:2"


def test_probabilities_are_ordered_across_horizons(spark):
    probabilities = "siren string, p_12m double, p_18m double, p_24m double"
    scores = spark.createDataFrame(
        [("1", 0.1, 0.2, 0.3), ("2", 0.4, 0.2, 0.3), ("3", 0.1, 0.5, 0.2), ("4", 0.6, 0.3, 0.1)], probabilities
    )
    expected = spark.createDataFrame(
        [("1", 0.1, 0.2, 0.3), ("2", 0.4, 0.4, 0.4), ("3", 0.1, 0.5, 0.5), ("4", 0.6, 0.6, 0.6)], probabilities
    )
    assert_df_equality(ordered_horizons(scores, ["p_12m", "p_18m", "p_24m"]), expected, ignore_nullable=True)
    assert_df_equality(ordered_horizons(scores, ["p_18m"]), scores)
