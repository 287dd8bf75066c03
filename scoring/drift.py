"""The drift watch: how far a scored month's data stand from the rows the champion was trained on.

At training, training/profile.py records the training rows' distribution (the model's reference:
per feature, quantile bins with their rows and the missing ones, the feature's share of the
importance; the calibrated score's bins, overall and per region). Each scored month is binned on
the same edges and compared by the population stability index
(`psi`), the usual measure of a shifted distribution: below 0.1 stable, above 0.25 shifted.

A month drifts (`drift_flag`) when the features past conf's PSI threshold carry at least conf's
share of the model's importance: a shift in a feature the trees barely use changes little, and a
lockdown that moves debts and partial activity at once (March 2020) moves most of the importance.

Spark computes the counts; the PSI over a few bins per feature is plain arithmetic.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from training.profile import MISSING_BIN, binned_counts, known_region

FEATURE, REGION, MONTH = "feature", "region", "month"  # the kinds of monitoring rows
LIVE, BACKTEST = "live", "backtest"  # their sources: the monthly scores, or a back-test

MONITORING_SCHEMA = (
    "period date, source string, model_version string, kind string, name string, rows long, psi double, "
    "missing_share double, reference_missing_share double, importance double, high_alerts long, "
    "moderate_alerts long, first_alerts long, drifting boolean"
)


def shares(counts: Mapping[int, int], bins: int) -> list[float]:
    """The share of the present values in each bin 0 .. `bins` - 1 (missing ones left out: they
    have their own measure, missing_share); all 0 when no value is present."""
    present = {b: n for b, n in counts.items() if b != MISSING_BIN}
    total = sum(present.values())
    return [present.get(b, 0) / total if total else 0.0 for b in range(bins)]


def missing_share(counts: Mapping[int, int]) -> float | None:
    """The share of rows whose value is missing (None without rows)."""
    total = sum(counts.values())
    return counts.get(MISSING_BIN, 0) / total if total else None


def psi(expected: Sequence[float], actual: Sequence[float], floor: float) -> float:
    """The population stability index of `actual` shares against `expected` ones: the sum over bins
    of (a - e) * ln(a / e), each share floored at `floor` so that an empty bin counts as far, not
    infinitely far; 0 when either side has no value (nothing to compare)."""
    if len(expected) != len(actual):
        raise ValueError(f"{len(expected)} reference bins against {len(actual)}")
    if not sum(expected) or not sum(actual):
        return 0.0
    total = 0.0
    for e, a in zip(expected, actual):
        e, a = max(e, floor), max(a, floor)
        total += (a - e) * math.log(a / e)
    return total


@dataclass(frozen=True)
class DriftRule:
    """When a month drifts: features with a PSI above `psi` carry `importance_share` of the importance."""

    psi: float
    importance_share: float
    floor: float

    @classmethod
    def from_conf(cls, settings: Mapping) -> "DriftRule":
        """The rule of conf `monitoring`."""
        return cls(float(settings["flag"]["psi"]), float(settings["flag"]["importance_share"]),
                   float(settings["psi_floor"]))


def drift_flag(feature_psi: Mapping[str, float], importance: Mapping[str, float], rule: DriftRule) -> tuple[bool, float]:
    """Whether a month drifts under `rule`, and the share of the importance its drifting features carry."""
    total = sum(importance.values())
    drifted = sum(importance.get(name, 0.0) for name, value in feature_psi.items() if value > rule.psi)
    share = drifted / total if total > 0 else 0.0
    return share >= rule.importance_share, share


def month_counts(firms: DataFrame, scores: DataFrame, reference: Mapping, region_col: str = "region"):
    """The Spark side of a month's watch: its live `firms` (panel rows) binned on the reference's
    feature edges, and its `scores` binned on the score edges per region (`region_col`, name,
    bin, rows) with, per region, rows, alerts by level and first alerts (firms without a region
    under UNKNOWN_REGION)."""
    features = binned_counts(firms, {f: v["edges"] for f, v in reference["features"].items()})
    score = reference["score"]
    scores = scores.withColumn(region_col, known_region(region_col))
    binned = binned_counts(scores, {score["column"]: score["edges"]}, by=[region_col])
    alerts = scores.groupBy(region_col).agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum((F.col("alert_level") == "high").cast("long")).alias("high_alerts"),
        F.sum((F.col("alert_level") == "moderate").cast("long")).alias("moderate_alerts"),
        F.sum(F.col("first_alert").cast("long")).alias("first_alerts"),
    )
    return features, binned, alerts


def monitoring_rows(
    period: dt.date,
    source: str,
    model_version: str,
    reference: Mapping,
    feature_counts: Mapping[str, Mapping[int, int]],
    score_counts: Mapping[str, Mapping[int, int]],
    alerts: Mapping[str, Mapping[str, int]],
    rule: DriftRule,
) -> list[dict]:
    """A month's rows of `lake/monitoring` (MONITORING_SCHEMA): one per feature (the PSI of its
    present values against the reference's, its missing shares now and then, its importance,
    whether it drifts), one per region (the PSI of
    its score distribution against the region's reference, or the overall one for a region the
    training rows lacked; its rows, alerts and first alerts), and one `month` row (kind `month`,
    name `all`) whose `drifting` is drift_flag's verdict and `importance` the drifted share."""
    bins = int(reference["bins"])
    common = {"period": period, "source": source, "model_version": model_version}
    rows, feature_psi = [], {}
    for name, profile in reference["features"].items():
        counts = feature_counts.get(name, {})
        feature_psi[name] = value = psi(shares(profile["counts"], bins), shares(counts, bins), rule.floor)
        rows.append({**common, "kind": FEATURE, "name": name, "rows": sum(counts.values()), "psi": value,
                     "missing_share": missing_share(counts), "reference_missing_share": missing_share(profile["counts"]),
                     "importance": float(profile["importance"]), "high_alerts": None, "moderate_alerts": None,
                     "first_alerts": None, "drifting": value > rule.psi})
    score = reference["score"]
    for region in sorted(alerts):
        expected = shares(score["by_region"].get(region) or score["counts"], bins)
        value = psi(expected, shares(score_counts.get(region, {}), bins), rule.floor)
        rows.append({**common, "kind": REGION, "name": region, "psi": value, "missing_share": None,
                     "reference_missing_share": None, "importance": None, "drifting": value > rule.psi,
                     **{k: int(alerts[region][k] or 0) for k in ("rows", "high_alerts", "moderate_alerts", "first_alerts")}})
    drifting, share = drift_flag(feature_psi, {f: v["importance"] for f, v in reference["features"].items()}, rule)
    totals = {k: sum(int(a[k] or 0) for a in alerts.values()) for k in ("rows", "high_alerts", "moderate_alerts", "first_alerts")}
    rows.append({**common, "kind": MONTH, "name": "all", "psi": max(feature_psi.values(), default=0.0),
                 "missing_share": None, "reference_missing_share": None, "importance": share,
                 "drifting": drifting, **totals})
    return rows


def drifting_features(rows: Sequence[Mapping], limit: int) -> list[str]:
    """The drifting features of a month's monitoring rows, most important first (at most `limit`)."""
    drifted = [r for r in rows if r["kind"] == FEATURE and r["drifting"]]
    return [r["name"] for r in sorted(drifted, key=lambda r: -(r["importance"] or 0.0))[:limit]]


def drift_warning(rows: Sequence[Mapping], named: int) -> str | None:
    """The warning for a drifting month of monitoring rows (None when it does not drift)."""
    month = next((r for r in rows if r["kind"] == MONTH), None)
    if month is None or not month["drifting"]:
        return None
    return (f"drift: {month['period']:%Y-%m} ({month['source']}) drifts from the champion's training rows: "
            f"{', '.join(drifting_features(rows, named))} carry {month['importance']:.0%} of its importance "
            "past the PSI threshold; read this month's scores with care")
