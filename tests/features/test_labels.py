"""Failure event, after-failure flag and horizon labels (features/labels.py)."""
import datetime as dt

from chispa import assert_df_equality

from features.labels import add_failure_labels, failure_dates

D = dt.date
S1, S2 = "000000001", "000000002"


def test_failure_is_first_opening_and_labels_look_h_months_ahead(spark):
    proceedings = spark.createDataFrame(
        [
            (S1, D(2024, 9, 2), True),
            (S1, D(2024, 6, 15), True),  # the first opening is the failure
            (S1, D(2024, 3, 1), False),  # a closing stage is not a failure
            (S2, D(2024, 4, 1), False),
        ],
        "siren string, effective_date date, is_opening boolean",
    )
    expected = spark.createDataFrame(
        [
            # failure in June; proceedings known up to August: a 3-month label needs period <= May
            (S1, D(2023, 11, 1), None, False, 0, 0),  # the failure is beyond the longest horizon
            (S1, D(2023, 12, 1), D(2024, 6, 15), False, 0, 1),
            (S1, D(2024, 2, 1), D(2024, 6, 15), False, 0, 1),
            (S1, D(2024, 3, 1), D(2024, 6, 15), False, 1, None),
            (S1, D(2024, 5, 1), D(2024, 6, 15), False, 1, None),
            (S1, D(2024, 6, 1), D(2024, 6, 15), True, None, None),
            (S1, D(2024, 7, 1), D(2024, 6, 15), True, None, None),
            (S2, D(2024, 2, 1), None, False, 0, 0),
        ],
        "siren string, period date, failure_date date, after_failure boolean, failure_3m int, failure_6m int",
    )
    panel = expected.select("siren", "period")
    actual = add_failure_labels(panel, failure_dates(proceedings), [3, 6], last_month=D(2024, 8, 1))
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
