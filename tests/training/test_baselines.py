"""The social-debt rule: debt above three months of contributions."""
from chispa import assert_df_equality

from training.baselines import social_debt_rule

SCHEMA = "siren string, debt_employee double, debt_employer double, contributions_mean_12m double"


def test_social_debt_rule_flags_debt_above_three_months_of_contributions(spark):
    expected = spark.createDataFrame(
        [
            ("000000001", 100.0, 200.0, 100.0, 0.0),  # exactly three months: not above
            ("000000002", 100.0, 201.0, 100.0, 1.0),
            ("000000003", None, 400.0, 100.0, 1.0),  # a missing part counts as no debt
            ("000000004", 0.0, 0.0, None, 0.0),  # no debt: never flagged
            ("000000005", 10.0, 0.0, None, 1.0),  # debt, contributions unknown
        ],
        SCHEMA + ", score double",
    )
    actual = social_debt_rule(expected.drop("score"), ["debt_employee", "debt_employer"], "contributions_mean_12m", 3)
    assert_df_equality(actual, expected, ignore_nullable=True)
