"""Evaluation of scores against labels: Spark aggregates down to a small histogram, curves from it.

Scores are binned to `1/bins` in Spark (rows, positives, score and squared-error sums per bin and
group), so the collected table has at most groups x (bins + 1) rows whatever the data size; every
curve, threshold and metric then comes from that table. A row is flagged at threshold t when its
score is at least t; thresholds are bin edges, so the binning costs at most 1/bins of threshold
precision, and rows within a bin count as tied (as tied scores do in scikit-learn).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

HISTOGRAM_COLUMNS = ["bin", "rows", "positives", "score_sum", "squared_error_sum"]


def score_histogram(
    scored: DataFrame, score_col: str, label_col: str, bins: int, group_cols: Sequence[str] = ()
) -> pd.DataFrame:
    """Per group and score bin (`floor(score x bins)`): rows, positives, sum of scores, of squared errors.

    Computed in Spark; the result is small (groups x (bins + 1) rows at most) and returned to the driver.
    """
    score, label = F.col(score_col).cast("double"), F.col(label_col).cast("double")
    return (
        scored.groupBy(*group_cols, F.floor(score * bins).cast("long").alias("bin"))
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(label).alias("positives"),
            F.sum(score).alias("score_sum"),
            F.sum(F.pow(score - label, 2)).alias("squared_error_sum"),
        )
        .toPandas()
    )


@dataclass(frozen=True)
class Curve:
    """Cumulative counts from the highest score bin down: the flagged set at each threshold."""

    thresholds: np.ndarray
    flagged: np.ndarray
    true_positives: np.ndarray
    rows: int
    positives: int

    @property
    def precision(self) -> np.ndarray:
        return self.true_positives / self.flagged

    @property
    def recall(self) -> np.ndarray:
        return self.true_positives / self.positives if self.positives else np.full(len(self.flagged), np.nan)

    @property
    def false_positive_rate(self) -> np.ndarray:
        negatives = self.rows - self.positives
        return (self.flagged - self.true_positives) / negatives if negatives else np.full(len(self.flagged), np.nan)


def curve(histogram: pd.DataFrame, bins: int) -> Curve:
    """The precision-recall and ROC curve of a histogram (summed over its groups)."""
    by_bin = histogram.groupby("bin")[["rows", "positives"]].sum().sort_index(ascending=False)
    return Curve(
        thresholds=by_bin.index.to_numpy(dtype=float) / bins,
        flagged=by_bin["rows"].cumsum().to_numpy(dtype=float),
        true_positives=by_bin["positives"].cumsum().to_numpy(dtype=float),
        rows=int(by_bin["rows"].sum()),
        positives=int(by_bin["positives"].sum()),
    )


def average_precision(c: Curve) -> float:
    """Area under the precision-recall curve as average precision (steps, no interpolation)."""
    if not c.positives:
        return math.nan
    recall_steps = np.diff(c.recall, prepend=0.0)
    return float(np.sum(recall_steps * c.precision))


def roc_auc(c: Curve) -> float:
    """Area under the ROC curve (trapezoids; ties within a bin count half)."""
    if not c.positives or c.positives == c.rows:
        return math.nan
    fpr = np.concatenate([[0.0], c.false_positive_rate])
    tpr = np.concatenate([[0.0], c.recall])
    return float(np.trapezoid(tpr, fpr))


def fbeta(precision: np.ndarray, recall: np.ndarray, beta: float) -> np.ndarray:
    """F-beta score, 0 where precision and recall are both 0."""
    b2 = beta * beta
    denominator = b2 * precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (1 + b2) * precision * recall / denominator, 0.0)


def best_fbeta_threshold(c: Curve, beta: float) -> float:
    """The threshold maximising F-beta (the highest such threshold on ties); raises without positives."""
    if not c.positives:
        raise ValueError("no positive row: no threshold can be chosen")
    return float(c.thresholds[int(np.argmax(fbeta(c.precision, c.recall, beta)))])


def at_threshold(c: Curve, threshold: float) -> tuple[float, float]:
    """(precision, recall) when flagging the rows with a score at least `threshold` (precision nan if none)."""
    flagged = c.thresholds >= threshold - 1e-12
    if not flagged.any():
        return math.nan, 0.0
    last = int(np.flatnonzero(flagged)[-1])
    return float(c.precision[last]), float(c.recall[last]) if c.positives else math.nan


def precision_at_top(c: Curve, share: float) -> float:
    """Precision among the `share` highest-scored rows (rows tied in a bin taken pro rata)."""
    if not c.rows:
        return math.nan
    k = max(1, math.ceil(share * c.rows))
    i = int(np.searchsorted(c.flagged, k))
    before_rows = c.flagged[i - 1] if i else 0.0
    before_positives = c.true_positives[i - 1] if i else 0.0
    bin_rate = (c.true_positives[i] - before_positives) / (c.flagged[i] - before_rows)
    return float((before_positives + (k - before_rows) * bin_rate) / k)


def expected_calibration_error(histogram: pd.DataFrame, bins: int, calibration_bins: int) -> float:
    """Mean gap between predicted and observed rates over equal-width score buckets, weighted by
    rows: sum over buckets of rows/total x |mean score - observed rate| (NaN without rows)."""
    table = calibration_table(histogram, bins, calibration_bins)
    total = table["rows"].sum()
    if not total:
        return math.nan
    return float((table["rows"] / total * (table["mean_score"] - table["observed_rate"]).abs()).sum())


def summary(
    histogram: pd.DataFrame, bins: int, thresholds: Mapping[str, float], top_shares: Sequence[float],
    calibration_bins: int = 10,
) -> dict[str, float]:
    """The metrics of one set of scored rows: rows, positives, auc_pr, roc_auc, brier, ece (over
    `calibration_bins` equal-width buckets), and per threshold name `precision_<name>`,
    `recall_<name>`, per share `precision_top<pct>pct`."""
    c = curve(histogram, bins)
    metrics = {
        "rows": float(c.rows),
        "positives": float(c.positives),
        "auc_pr": average_precision(c),
        "roc_auc": roc_auc(c),
        "brier": float(histogram["squared_error_sum"].sum() / c.rows) if c.rows else math.nan,
        "ece": expected_calibration_error(histogram, bins, calibration_bins),
    }
    for name, threshold in thresholds.items():
        metrics[f"precision_{name}"], metrics[f"recall_{name}"] = at_threshold(c, threshold)
    for share in top_shares:
        metrics[f"precision_top{share * 100:g}pct"] = precision_at_top(c, share)
    return metrics


def summary_by_group(
    histogram: pd.DataFrame, group_col: str, bins: int, thresholds: Mapping[str, float], top_shares: Sequence[float],
    calibration_bins: int = 10,
) -> pd.DataFrame:
    """`summary` per value of `group_col` (e.g. region), one row per group, sorted by group."""
    rows = [
        {group_col: group, **summary(part, bins, thresholds, top_shares, calibration_bins)}
        for group, part in histogram.groupby(group_col, sort=True)
    ]
    return pd.DataFrame(rows)


def calibration_table(histogram: pd.DataFrame, bins: int, calibration_bins: int) -> pd.DataFrame:
    """Per equal-width score bucket: rows, mean predicted score and observed positive rate."""
    bucket = np.minimum(histogram["bin"] * calibration_bins // bins, calibration_bins - 1)
    grouped = histogram.groupby(bucket)[["rows", "positives", "score_sum"]].sum()
    return pd.DataFrame(
        {
            "rows": grouped["rows"],
            "mean_score": grouped["score_sum"] / grouped["rows"],
            "observed_rate": grouped["positives"] / grouped["rows"],
        }
    ).reset_index(drop=True)


def lead_times(
    scored: DataFrame,
    thresholds: Mapping[str, float],
    score_col: str,
    label_col: str,
    failure_date_col: str = "failure_date",
    siren_col: str = "siren",
    period_col: str = "period",
) -> DataFrame:
    """Per firm with a positive row: its failure month and, per threshold name, `lead_<name>`: months
    from its first period scored at or above the threshold to its failure month (null if never flagged).

    One row per siren; small (the failing firms of the scored rows).
    """
    positives = scored.filter(F.col(label_col) == 1)
    failure_month = F.trunc(F.max(failure_date_col), "month")
    first_flags = {
        name: F.min(F.when(F.col(score_col) >= threshold, F.col(period_col))) for name, threshold in thresholds.items()
    }
    return positives.groupBy(siren_col).agg(
        failure_month.alias("failure_month"),
        *(F.months_between(failure_month, first).cast("int").alias(f"lead_{name}") for name, first in first_flags.items()),
    )


def _weighted_average_precision(bin_index: np.ndarray, labels: np.ndarray, weights: np.ndarray, size: int) -> float:
    """average_precision of rows in score bins `bin_index` (0..size-1), each row counted `weights` times."""
    rows = np.bincount(bin_index, weights, minlength=size)
    positives = np.bincount(bin_index, weights * labels, minlength=size)
    present = np.flatnonzero(rows)
    histogram = pd.DataFrame({"bin": present, "rows": rows[present], "positives": positives[present]})
    return average_precision(curve(histogram, size - 1))


def auc_pr_difference_interval(
    rows: pd.DataFrame,
    score_a: str,
    score_b: str,
    label_col: str,
    group_col: str,
    bins: int,
    replicates: int,
    seed: int,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
) -> dict[float, float]:
    """Quantiles of AUC-PR(score_a) - AUC-PR(score_b) over a bootstrap of the groups of `rows`.

    Rows of one group (a firm: its months are correlated) are resampled together, by Poisson(1)
    counts per group; scores are binned to 1/`bins` as everywhere in this module. `rows` has one
    row per scored row (small: a test split's rows).
    """
    labels = rows[label_col].to_numpy(dtype=float)
    group = pd.factorize(rows[group_col])[0]
    size = bins + 1
    binned = {s: np.clip(np.floor(rows[s].to_numpy(dtype=float) * bins), 0, bins).astype(np.int64) for s in (score_a, score_b)}
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(replicates):
        weights = rng.poisson(1.0, group.max() + 1)[group].astype(float)
        a, b = (_weighted_average_precision(binned[s], labels, weights, size) for s in (score_a, score_b))
        if not (math.isnan(a) or math.isnan(b)):
            differences.append(a - b)
    if not differences:
        return {q: math.nan for q in quantiles}
    return dict(zip(quantiles, np.quantile(differences, quantiles).tolist()))
