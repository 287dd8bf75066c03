"""Metrics from the binned score histogram: curves, F-beta thresholds, top-k precision, lead times."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from chispa import assert_df_equality
from sklearn.metrics import average_precision_score, roc_auc_score

from training import metrics

D = dt.date
# A known example: the F0.5-optimal threshold is 0.8 (F0.5 = 0.833: two true positives, no false
# one), the F2-optimal one 0.3 (F2 = 0.870: every positive among 7 flagged rows).
SCORES = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
LABELS = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]


def _histogram(spark, scores, labels, bins, regions=None):
    rows = list(zip(scores, labels, regions or ["11"] * len(scores)))
    scored = spark.createDataFrame(rows, "score double, label int, region string")
    return metrics.score_histogram(scored, "score", "label", bins, ["region"] if regions else [])


def test_thresholds_maximise_f_half_and_f_two_on_a_known_example(spark):
    c = metrics.curve(_histogram(spark, SCORES, LABELS, bins=100), bins=100)
    assert metrics.best_fbeta_threshold(c, 0.5) == pytest.approx(0.8)
    assert metrics.best_fbeta_threshold(c, 2.0) == pytest.approx(0.3)
    assert metrics.at_threshold(c, 0.6) == pytest.approx((0.75, 0.75))
    assert metrics.at_threshold(c, 0.3) == pytest.approx((4 / 7, 1.0))


def test_summary_matches_scikit_learn_and_direct_counts(spark):
    rng = np.random.default_rng(3)
    labels = (rng.random(300) < 0.2).astype(int)
    # Scores at bin centres (bins of 1/1000), with ties, higher for positives on average.
    scores = (np.clip(rng.normal(0.3 + 0.3 * labels, 0.2), 0, 0.999) * 1000).astype(int) / 1000 + 0.0005
    histogram = _histogram(spark, scores.tolist(), labels.tolist(), bins=1000)
    summary = metrics.summary(histogram, 1000, {"high": 0.6}, [0.01, 0.05])
    assert summary["rows"] == 300 and summary["positives"] == labels.sum()
    assert summary["auc_pr"] == pytest.approx(average_precision_score(labels, scores))
    assert summary["roc_auc"] == pytest.approx(roc_auc_score(labels, scores))
    assert summary["brier"] == pytest.approx(np.mean((scores - labels) ** 2))
    flagged = scores >= 0.6
    assert summary["precision_high"] == pytest.approx(labels[flagged].mean())
    assert summary["recall_high"] == pytest.approx(labels[flagged].sum() / labels.sum())
    # Top 5% = 15 rows: those above the 15th score, then the rows tied with it pro rata.
    cut = np.sort(scores)[-15]
    above, tied = scores > cut, scores == cut
    expected_top = (labels[above].sum() + (15 - above.sum()) * labels[tied].mean()) / 15
    assert summary["precision_top5pct"] == pytest.approx(expected_top)


def test_precision_at_top_takes_tied_rows_pro_rata(spark):
    c = metrics.curve(_histogram(spark, [0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0], bins=10), bins=10)
    assert metrics.precision_at_top(c, 0.25) == pytest.approx(1.0)
    assert metrics.precision_at_top(c, 0.5) == pytest.approx(0.75)  # one of the two tied rows, half positive
    assert metrics.precision_at_top(c, 0.75) == pytest.approx(2 / 3)


def test_summary_by_region_and_calibration(spark):
    regions = ["11"] * 5 + ["84"] * 5
    histogram = _histogram(spark, SCORES, LABELS, bins=100, regions=regions)
    by_region = metrics.summary_by_group(histogram, "region", 100, {"high": 0.8}, [0.2])
    assert by_region["region"].tolist() == ["11", "84"]
    assert by_region["positives"].tolist() == [3, 1]
    assert by_region["precision_high"][0] == 1.0 and np.isnan(by_region["precision_high"][1])  # none flagged
    assert by_region["recall_high"].tolist() == pytest.approx([2 / 3, 0.0])
    assert by_region["precision_top20pct"].tolist() == [1.0, 0.0]

    calibration = metrics.calibration_table(histogram, 100, 2)
    expected = pd.DataFrame({"rows": [5, 5], "mean_score": [0.21, 0.7], "observed_rate": [0.2, 0.6]})
    pd.testing.assert_frame_equal(calibration, expected, check_dtype=False)


def test_lead_time_counts_months_from_first_flag_to_failure(spark):
    schema = "siren string, period date, score double, label int, failure_date date"
    rows = [("000000001", D(2021, m, 1), s, 1, D(2021, 6, 15)) for m, s in zip(range(1, 6), [0.1, 0.6, 0.9, 0.2, 0.9])]
    rows += [("000000002", D(2021, 5, 1), 0.1, 1, D(2021, 9, 3)), ("000000003", D(2021, 5, 1), 0.9, 0, None)]
    scored = spark.createDataFrame(rows, schema)
    expected = spark.createDataFrame(
        [("000000001", D(2021, 6, 1), 3, 4), ("000000002", D(2021, 9, 1), None, None)],
        "siren string, failure_month date, lead_high int, lead_moderate int",
    )
    actual = metrics.lead_times(scored, {"high": 0.8, "moderate": 0.5}, "score", "label")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def _firm_rows(firms: int, months: int, seed: int) -> pd.DataFrame:
    """Rows of `firms` firms x `months` months: a fifth of the firms positive in every month."""
    rng = np.random.default_rng(seed)
    positive = rng.random(firms) < 0.2
    frame = pd.DataFrame({"siren": np.repeat(np.arange(firms), months), "label": np.repeat(positive, months).astype(int)})
    frame["perfect"] = frame["label"] * 0.5 + rng.uniform(0, 0.4, len(frame))  # every positive above every negative
    frame["random"] = rng.uniform(0, 1, len(frame))
    return frame


def test_auc_pr_difference_interval_brackets_a_clear_lead_and_a_tie():
    rows = _firm_rows(firms=300, months=4, seed=1)
    lead = metrics.auc_pr_difference_interval(rows, "perfect", "random", "label", "siren", 1000, 100, seed=3)
    assert 0 < lead[0.05] < lead[0.5] < lead[0.95] < 1
    # The point difference (perfect: AUC-PR 1) lies inside the interval.
    random_ap = average_precision_score(rows["label"], rows["random"])
    assert lead[0.05] < 1 - random_ap < lead[0.95]
    tie = metrics.auc_pr_difference_interval(rows, "random", "random", "label", "siren", 1000, 50, seed=3)
    assert tie == {0.05: 0.0, 0.5: 0.0, 0.95: 0.0}


def test_bootstrap_resamples_whole_firms_so_repeated_months_do_not_narrow_the_interval():
    one_month = _firm_rows(firms=200, months=1, seed=2)
    # The same firms seen 6 months with the same scores: no new information, the same interval width.
    six_months = one_month.loc[one_month.index.repeat(6)].reset_index(drop=True)
    widths = []
    for rows in (one_month, six_months):
        q = metrics.auc_pr_difference_interval(rows, "random", "perfect", "label", "siren", 1000, 200, seed=5)
        widths.append(q[0.95] - q[0.05])
    assert widths[1] == pytest.approx(widths[0], rel=0.25)


def test_weighted_average_precision_with_unit_weights_is_the_curve_s(spark):
    bins = 100
    histogram = _histogram(spark, SCORES, LABELS, bins)
    binned = np.floor(np.array(SCORES) * bins).astype(np.int64)
    weighted = metrics._weighted_average_precision(binned, np.array(LABELS, float), np.ones(len(SCORES)), bins + 1)
    assert weighted == pytest.approx(metrics.average_precision(metrics.curve(histogram, bins)))
