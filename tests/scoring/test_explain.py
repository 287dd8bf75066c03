"""Path contributions from the trees: exact on a hand-built ensemble, additive on a trained GBT."""
import math

import numpy as np
import pytest
from chispa import assert_df_equality
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F

from tests.training.tiny_gbt import FEATURE_THEMES, tiny_features, tiny_model
from scoring.explain import TreeEnsemble, add_reasons, column_themes, extract_ensemble, path_contributions
from scoring.reason_text import NBSP, NO_REASON_TEXT, reason_wording

NAN = float("nan")


def hand_built() -> TreeEnsemble:
    """Tree 0 (weight 1): a <= 1 ? -0.5 : (b <= 2 ? 0 : 1), root 0, right node 0.25.
    Tree 1 (weight 0.5): c <= 0 ? -0.25 : 0.75, root 0.25."""
    return TreeEnsemble(
        #                  0    1     2    3    4    5    6     7
        feature=np.array([0, -1, 1, -1, -1, 2, -1, -1]),
        threshold=np.array([1.0, NAN, 2.0, NAN, NAN, 0.0, NAN, NAN]),
        left=np.array([1, -1, 3, -1, -1, 6, -1, -1]),
        right=np.array([2, -1, 4, -1, -1, 7, -1, -1]),
        value=np.array([0.0, -0.5, 0.25, 0.0, 1.0, 0.25, -0.25, 0.75]),
        roots=np.array([0, 5]),
        weights=np.array([1.0, 0.5]),
    )


def test_path_contributions_of_a_hand_built_ensemble():
    x = np.array([[2.0, 3.0, 1.0], [0.0, 3.0, 1.0], [2.0, NAN, -1.0]])
    contributions = path_contributions(hand_built(), x)
    # Log-odds = 2 x margin: a's split moved tree 0 from 0 to 0.25 (+0.5), b's from 0.25 to 1 (+1.5),
    # c's moved tree 1 (weight 0.5) from 0.25 to 0.75 (+0.5). NaN goes right, as in Spark.
    expected = np.array([[0.5, 1.5, 0.5], [-1.0, 0.0, 0.5], [0.5, 1.5, -0.5]])
    np.testing.assert_allclose(contributions, expected)
    assert hand_built().base_value == pytest.approx(0.25)


def test_contributions_add_up_to_the_log_odds_of_a_trained_gbt(spark):
    model = tiny_model(spark)
    scored = model.transform(tiny_features(spark, 40, seed=5)).select(
        vector_to_array("features").alias("x"), vector_to_array("probability")[1].alias("p")
    ).collect()
    x = np.array([row.x for row in scored])
    log_odds = np.array([math.log(row.p / (1 - row.p)) for row in scored])
    ensemble = extract_ensemble(model.stages[-1])
    contributions = path_contributions(ensemble, x)
    np.testing.assert_allclose(ensemble.base_value + contributions.sum(axis=1), log_odds, atol=1e-9)
    # The model did learn from the debt ratio: its contributions vary across firms.
    assert np.ptp(contributions[:, 0]) > 0.1
    assert len(ensemble.roots) == 6 and ensemble.weights[0] == 1.0


def test_column_themes_maps_missing_indicators_to_their_feature():
    columns = ["debt_over_contributions", "margin_rate", "margin_rate_missing"]
    assert column_themes(columns, FEATURE_THEMES) == ["social_debt", "finances", "finances"]
    with pytest.raises(KeyError):
        column_themes(["unknown_column"], FEATURE_THEMES)


# The hand-built ensemble's a, b and c, as catalogue features.
COLUMNS = ["debt_total", "debt_over_contributions", "headcount_change_12m"]


def test_add_reasons_lists_rising_themes_and_features_for_flagged_rows(spark):
    value_columns = reason_wording(COLUMNS).value_columns
    assert value_columns == ("debt_total", "debt_over_contributions", "headcount", "debt_total_change_3m",
                             "debt_over_contributions_lag_3m", "headcount_change_12m")
    firm = [12400.0, 4.2, 15.0, 3100.0, 2.9, -0.2]
    unpublished = [12400.0, None, None, 0.0, 2.9, None]
    schema = "siren string, explain boolean, features array<double>, values array<double>"
    rows = [
        ("000000001", True, [2.0, 3.0, 1.0], firm),
        ("000000002", True, [0.0, 3.0, 1.0], unpublished),
        ("000000003", True, [2.0, NAN, -1.0], unpublished),
        ("000000004", False, [2.0, 3.0, 1.0], firm),
        ("000000005", True, [0.0, 3.0, -1.0], firm),
    ]
    firms = spark.createDataFrame(rows, schema)
    actual = add_reasons(
        firms, hand_built(), "features", "values", COLUMNS, ["social_debt", "social_debt", "headcount"],
        explain_col="explain", max_themes=2, max_features=2,
    )
    debt = f"dette URSSAF de 4,2{NBSP}mois de cotisations (+1,3 en 3 mois)"
    total = f"dette URSSAF totale de 12{NBSP}400{NBSP}€ (+3{NBSP}100 en 3 mois)"
    expected = spark.createDataFrame(
        [
            ("000000001", True,
             [("social_debt", "debt_over_contributions", 1.5), ("social_debt", "debt_total", 0.5),
              ("headcount", "headcount_change_12m", 0.5)],
             f"Dettes sociales : {debt} ; {total} | Effectifs : effectif de 15{NBSP}salariés (-20{NBSP}% en 12 mois)"),
            # a pulled the score down (-1.0): neither it nor its theme is a reason; a missing
            # headcount is said in words.
            ("000000002", True, [("headcount", "headcount_change_12m", 0.5)], "Effectifs : effectif non publié"),
            ("000000003", True, [("social_debt", "debt_over_contributions", 1.5), ("social_debt", "debt_total", 0.5)],
             f"Dettes sociales : dette URSSAF sans cotisations connues sur 12 mois ; "
             f"dette URSSAF totale de 12{NBSP}400{NBSP}€ (stable sur 3 mois)"),
            ("000000004", False, [], ""),
            # Every theme pulled the score down: alerted all the same (base value), without a reason.
            ("000000005", True, [], NO_REASON_TEXT),
        ],
        "siren string, explain boolean, "
        "reasons array<struct<theme:string,feature:string,contribution:double>>, reasons_text string",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
