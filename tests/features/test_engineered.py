"""Calendar-month lags, moving means, changes and the catalogue's features (features/engineered.py)."""
import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from features import catalog
from features.calendar import month_index_col
from features.engineered import add_changes, add_features, add_lags, add_month_count, add_moving_means, ratio_col

D = dt.date
S1 = "000000001"


def test_lags_are_calendar_months_across_a_gap(spark):
    expected = spark.createDataFrame(
        [
            (S1, D(2024, 1, 1), 10.0, None, None),
            (S1, D(2024, 2, 1), 20.0, 10.0, None),
            # March is missing: April's 1-month lag is unknown, not February's value
            (S1, D(2024, 4, 1), 40.0, None, 20.0),
            ("000000002", D(2024, 2, 1), 5.0, None, None),
        ],
        "siren string, period date, debt double, debt_lag_1m double, debt_lag_2m double",
    )
    rows = expected.drop("debt_lag_1m", "debt_lag_2m").withColumn("month_index", month_index_col(F.col("period")))
    actual = add_lags(rows, ["debt"], [1, 2]).drop("month_index")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_moving_means_changes_and_month_counts_over_calendar_windows(spark):
    expected = spark.createDataFrame(
        [
            (S1, D(2024, 1, 1), 10.0, 10.0, None, None, 1),
            (S1, D(2024, 2, 1), 20.0, 15.0, 10.0, 1.0, 2),
            (S1, D(2024, 4, 1), 40.0, 30.0, None, None, 2),  # window February-April
            (S1, D(2024, 5, 1), 0.0, 20.0, -40.0, -1.0, 1),
        ],
        "siren string, period date, x double, x_mean_3m double, x_change_1m double, x_growth_1m double, "
        "x_months_3m int",
    )
    actual = (
        expected.select("siren", "period", "x")
        .withColumn("month_index", month_index_col(F.col("period")))
        .transform(add_moving_means, ["x"], [3])
        .transform(add_changes, ["x"], [1])
        .transform(add_changes, ["x"], [1], relative=True, name="{column}_growth_{months}m")
        .transform(add_month_count, F.col("x") > 0, 3, "x_months_3m")
        .drop("month_index")
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_ratio_zero_numerator_is_zero_and_unknown_denominator_is_null(spark):
    expected = spark.createDataFrame(
        [(0.0, None, 0.0), (10.0, 4.0, 2.5), (10.0, 0.0, None), (10.0, None, None)],
        "debt double, base double, ratio double",
    )
    actual = expected.drop("ratio").withColumn("ratio", ratio_col(F.col("debt"), F.col("base")))
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_add_features_computes_every_catalogue_feature(spark):
    ratios = ", ".join(f"{name} double" for name in catalog.BDF_RATIOS)
    schema = (
        "siren string, period date, contributions_due double, debt_employee double, debt_employer double, "
        "headcount int, ap_hours_authorised double, ap_hours_used double, payment_plan_count long, "
        "payment_plan_amount double, payment_plan_days_left int, payment_plan_expected_remaining double, "
        f"ccsf_stage string, {ratios}, paydex_days int, created_date date, naf string"
    )
    row = dict(contributions_due=1000.0, debt_employee=1000.0, debt_employer=2000.0, headcount=10,
               ap_hours_authorised=0.0, ap_hours_used=151.67, payment_plan_count=1, payment_plan_amount=4000.0,
               payment_plan_days_left=30, payment_plan_expected_remaining=1000.0, ccsf_stage="APPROB",
               **{name: 1.0 for name in catalog.BDF_RATIOS}, paydex_days=20, created_date=D(2020, 1, 15),
               naf="47.11F")
    rows = [dict(row, siren=S1, period=D(2024, m, 1)) for m in (1, 2)]
    panel = spark.createDataFrame(rows, schema).transform(add_features)
    assert set(catalog.feature_names()) <= set(panel.columns)
    february = panel.filter(F.col("period") == D(2024, 2, 1)).first()
    assert february["debt_total"] == 3000.0
    assert february["debt_over_contributions"] == 3.0  # three months of contributions owed
    assert february["debt_per_employee"] == 300.0
    assert february["debt_total_lag_1m"] == 3000.0 and february["debt_total_lag_2m"] is None
    assert february["payment_plan_deviation"] == 0.5  # (3000 - 1000) / 4000: behind schedule
    assert february["ccsf_active"] == 1 and february["ccsf_refused"] == 0
    assert february["firm_age_months"] == 49 and february["naf_division"] == 47
    assert february["debt_months_12m"] == 2
