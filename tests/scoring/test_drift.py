"""The drift watch's pieces on a handful of rows: bins, PSI, the flag rule and a month's rows."""
import datetime as dt
import json
import math

import pytest
from chispa import assert_df_equality

from scoring.drift import (
    BACKTEST, FEATURE, MONTH, REGION, DriftRule, drift_flag, drift_warning, drifting_features, missing_share,
    monitoring_rows, psi, shares,
)
from training.profile import MISSING_BIN, binned_counts, counts_by_name, from_json, reference_profile

RULE = DriftRule(psi=0.25, importance_share=0.3, floor=1e-4)
JUNE = dt.date(2020, 6, 1)


def test_values_fall_in_bins_closed_on_the_right_and_missing_apart(spark):
    rows = spark.createDataFrame([(None,), (0.0,), (0.0,), (1.0,), (2.0,), (5.0,), (float("nan"),)], "debt double")
    expected = spark.createDataFrame(
        [("debt", MISSING_BIN, 2), ("debt", 0, 2), ("debt", 1, 2), ("debt", 2, 1)], "name string, bin int, rows long"
    )
    assert_df_equality(binned_counts(rows, {"debt": [0.0, 2.0]}), expected, ignore_row_order=True, ignore_nullable=True)


def test_psi_is_zero_for_the_same_shares_and_grows_with_the_shift():
    same = [0.1, 0.2, 0.3, 0.4]
    assert psi(same, same, 1e-4) == 0.0
    # (0.2 - 0.4) ln(0.2 / 0.4) + (0.8 - 0.6) ln(0.8 / 0.6)
    assert psi([0.4, 0.6], [0.2, 0.8], 1e-4) == pytest.approx(0.2 * math.log(2) + 0.2 * math.log(0.8 / 0.6))
    assert psi([0.5, 0.5], [1.0, 0.0], 1e-4) > psi([0.5, 0.5], [0.7, 0.3], 1e-4) > 0.0
    assert shares({MISSING_BIN: 1, 0: 1, 2: 2}, bins=3) == [1 / 3, 0.0, 2 / 3]  # present values only
    assert missing_share({MISSING_BIN: 1, 0: 1, 2: 2}) == 0.25 and missing_share({}) is None
    assert psi([0.0, 0.0], [0.5, 0.5], 1e-4) == 0.0  # nothing to compare
    with pytest.raises(ValueError, match="3 reference bins against 2"):
        psi([0.2, 0.3, 0.5], [0.5, 0.5], 1e-4)


def test_a_month_drifts_when_its_shifted_features_carry_the_importance_share():
    importance = {"debt": 0.5, "partial_activity": 0.2, "age": 0.3}
    assert drift_flag({"debt": 0.4, "partial_activity": 0.1, "age": 0.0}, importance, RULE) == (True, 0.5)
    assert drift_flag({"debt": 0.1, "partial_activity": 0.9, "age": 0.0}, importance, RULE) == (False, 0.2)
    assert drift_flag({"debt": 0.25}, importance, RULE) == (False, 0.0)  # above the threshold, not at it


def test_reference_profile_bins_the_training_rows_and_survives_json(spark):
    rows = spark.createDataFrame(
        [(float(i), None if i % 4 == 0 else float(i % 3), i / 20, "27" if i < 10 else "11") for i in range(20)],
        "age double, debt double, score double, region string",
    )
    reference = reference_profile(rows, ["age", "debt"], {"age": 3.0, "debt": 1.0}, "score", "region", 4, 0.0)
    assert reference["rows"] == 20 and reference["bins"] == 4
    age, debt = reference["features"]["age"], reference["features"]["debt"]
    assert len(age["edges"]) == 3 and sum(age["counts"].values()) == 20 and MISSING_BIN not in age["counts"]
    assert debt["counts"][MISSING_BIN] == 5 and debt["edges"] == sorted(set(debt["edges"]))
    assert (age["importance"], debt["importance"]) == (0.75, 0.25)
    assert sum(reference["score"]["by_region"]["27"].values()) == 10
    assert reference["score"]["counts"] == {b: reference["score"]["by_region"]["27"].get(b, 0)
                                            + reference["score"]["by_region"]["11"].get(b, 0)
                                            for b in reference["score"]["counts"]}
    assert from_json(json.loads(json.dumps(reference))) == reference


def _reference():
    return {
        "bins": 2, "rows": 100,
        "features": {
            "debt": {"edges": [1.0], "counts": {MISSING_BIN: 10, 0: 45, 1: 45}, "importance": 0.6},
            "age": {"edges": [10.0], "counts": {0: 50, 1: 50}, "importance": 0.4},
        },
        "score": {"column": "p_12m", "edges": [0.1], "counts": {0: 80, 1: 20},
                  "by_region": {"27": {0: 90, 1: 10}}},
    }


def test_a_month_rows_say_each_feature_and_region_and_whether_the_month_drifts():
    features = {"debt": {MISSING_BIN: 1, 0: 9, 1: 90}, "age": {0: 50, 1: 50}}
    scores = {"27": {0: 9, 1: 1}, "84": {0: 50, 1: 50}}
    alerts = {"27": {"rows": 10, "high_alerts": 1, "moderate_alerts": 2, "first_alerts": 1},
              "84": {"rows": 100, "high_alerts": 5, "moderate_alerts": 9, "first_alerts": 3}}
    rows = monitoring_rows(JUNE, BACKTEST, "failure_12m:1", _reference(), features, scores, alerts, RULE)
    by = {(r["kind"], r["name"]): r for r in rows}
    assert sorted(by) == [(FEATURE, "age"), (FEATURE, "debt"), (MONTH, "all"), (REGION, "27"), (REGION, "84")]
    debt = by[(FEATURE, "debt")]
    assert debt["psi"] == pytest.approx(psi([0.5, 0.5], [9 / 99, 90 / 99], 1e-4)) and debt["drifting"]
    assert (debt["missing_share"], debt["reference_missing_share"], debt["rows"]) == (0.01, 0.1, 100)
    assert by[(FEATURE, "age")]["psi"] == 0.0 and not by[(FEATURE, "age")]["drifting"]
    # Region 27 against its own reference; 84, absent from the training rows, against all of them.
    assert by[(REGION, "27")]["psi"] == 0.0 and by[(REGION, "27")]["high_alerts"] == 1
    assert by[(REGION, "84")]["psi"] == pytest.approx(psi([0.8, 0.2], [0.5, 0.5], 1e-4))
    month = by[(MONTH, "all")]
    assert month["drifting"] and month["importance"] == 0.6 and month["rows"] == 110 and month["first_alerts"] == 4
    assert {r["source"] for r in rows} == {BACKTEST} and {r["period"] for r in rows} == {JUNE}
    assert drifting_features(rows, 5) == ["debt"]
    assert drift_warning(rows, 5).startswith("drift: 2020-06 (backtest) drifts from the champion's training rows: "
                                             "debt carry 60% of its importance")
    calm = monitoring_rows(JUNE, BACKTEST, "failure_12m:1", _reference(), {"debt": {MISSING_BIN: 10, 0: 45, 1: 45},
                           "age": {0: 50, 1: 50}}, scores, alerts, RULE)
    assert drift_warning(calm, 5) is None and not next(r for r in calm if r["kind"] == MONTH)["drifting"]
    assert counts_by_name([{"name": "debt", "bin": 0, "rows": 3}]) == {"debt": {0: 3}}
