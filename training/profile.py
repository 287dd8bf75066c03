"""A model's reference profile: the distribution of its training rows, which the drift watch
(scoring/drift.py) compares each scored month with.

`reference_profile` bins each feature on quantile edges of the training rows (equal rows per bin,
fewer bins where values repeat), counts the missing values apart, records each feature's share of
the model's importance, and bins the calibrated score too, overall and per region. Training logs
it with the model (drift_reference.json), so the watch needs no pass over the training rows.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

MISSING_BIN = -1
DRIFT_REFERENCE = "drift_reference.json"  # the artifact of a model's run that holds its reference
UNKNOWN_REGION = "unknown"  # the region key of firms without a region


def bin_index(value: Column, edges: Sequence[float]) -> Column:
    """The bin of `value` on sorted `edges`: MISSING_BIN when null (or NaN), else the number of
    edges below it, so bins are (-inf, e1], (e1, e2], ..., (ek, +inf)."""
    below = sum(((value > F.lit(float(edge))).cast("int") for edge in edges), F.lit(0))
    return F.when(value.isNull() | F.isnan(value.cast("double")), F.lit(MISSING_BIN)).otherwise(below)


def binned_counts(rows: DataFrame, edges: Mapping[str, Sequence[float]], by: Sequence[str] = ()) -> DataFrame:
    """Rows per (`by`..., `name`, `bin`): each column of `edges` binned on its edges (bin_index).
    Bins without rows are absent."""
    if not edges:
        raise ValueError("binned_counts needs at least one column")
    stacked = F.explode(F.array(*[
        F.struct(F.lit(name).alias("name"), bin_index(F.col(name), column_edges).alias("bin"))
        for name, column_edges in edges.items()
    ]))
    return (
        rows.select(*by, stacked.alias("_binned"))
        .select(*by, "_binned.name", "_binned.bin")
        .groupBy(*by, "name", "bin")
        .agg(F.count(F.lit(1)).alias("rows"))
    )


def quantile_edges(rows: DataFrame, columns: Sequence[str], bins: int, relative_error: float) -> dict[str, list[float]]:
    """Per column, the distinct inner quantiles of its non-null values that cut it into `bins`
    bins of equal rows (fewer where values repeat: a feature that is mostly 0 keeps an edge at 0)."""
    probabilities = [i / bins for i in range(1, bins)]
    quantiles = rows.approxQuantile(list(columns), probabilities, relative_error)
    return {column: sorted(set(float(q) for q in values)) for column, values in zip(columns, quantiles)}


def counts_by_name(rows: Iterable, key: str = "name") -> dict[str, dict[int, int]]:
    """Collected binned_counts rows as {name: {bin: rows}} (`key`: the column naming the group)."""
    found: dict[str, dict[int, int]] = {}
    for row in rows:
        found.setdefault(str(row[key]), {})[int(row["bin"])] = int(row["rows"])
    return found


def known_region(region_col: str) -> Column:
    """The region column with UNKNOWN_REGION for firms without one, so every group has a name."""
    return F.coalesce(F.col(region_col), F.lit(UNKNOWN_REGION))


def reference_profile(
    rows: DataFrame,
    features: Sequence[str],
    importance: Mapping[str, float],
    score_col: str,
    region_col: str,
    bins: int,
    relative_error: float,
) -> dict:
    """The drift reference of a model (JSON-ready): its training `rows` (features and the calibrated
    score `score_col`) binned per feature and for the score, overall and per region, with each
    feature's share of `importance`."""
    rows = rows.withColumn(region_col, known_region(region_col))
    edges = quantile_edges(rows, [*features, score_col], bins, relative_error)
    feature_counts = counts_by_name(binned_counts(rows, {f: edges[f] for f in features}).collect())
    score_counts = binned_counts(rows, {score_col: edges[score_col]}, by=[region_col]).collect()
    total = sum(importance.values()) or 1.0
    return {
        "bins": bins,
        "rows": sum(feature_counts.get(features[0], {}).values()),
        "features": {
            f: {"edges": edges[f], "counts": feature_counts.get(f, {}), "importance": importance.get(f, 0.0) / total}
            for f in features
        },
        "score": {
            "column": score_col,
            "edges": edges[score_col],
            "counts": _summed(counts_by_name(score_counts, region_col).values()),
            "by_region": counts_by_name(score_counts, region_col),
        },
    }


def _summed(groups: Iterable[Mapping[int, int]]) -> dict[int, int]:
    total: dict[int, int] = {}
    for counts in groups:
        for b, n in counts.items():
            total[b] = total.get(b, 0) + n
    return total


def from_json(reference: Mapping) -> dict:
    """A reference read back from JSON, whose bin keys came back as strings."""
    def ints(counts):
        return {int(b): int(n) for b, n in counts.items()}

    score = reference["score"]
    return {
        **reference,
        "features": {f: {**v, "counts": ints(v["counts"])} for f, v in reference["features"].items()},
        "score": {**score, "counts": ints(score["counts"]),
                  "by_region": {r: ints(c) for r, c in score["by_region"].items()}},
    }


