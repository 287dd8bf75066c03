"""Why a firm is alerted: per-prediction contributions read from the gradient-boosted trees.

Saabas path contributions: walking a tree from its root to the firm's leaf, each split moves the
tree's value from the parent node's to the child's; the move is credited to the split's feature.
Summed over a tree the moves telescope to leaf minus root, so over the weighted ensemble the
contributions add up exactly to the model's margin minus its base value (the weighted roots).
Spark's GBT classifier gives P(failure) = 1 / (1 + exp(-2 m)) for margin m, so log-odds = 2 m and
every figure here is in log-odds units.

The trees are read once on the driver into flat numpy arrays; the contributions are computed in
Spark, batch by batch, with vectorised numpy (`mapInPandas`), only for the rows that need reasons,
and worded there in French with the firm's own figures (scoring/reason_text.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from pyspark.ml.classification import GBTClassificationModel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from features import catalog
from scoring.reason_text import reason_wording, reasons_texts
from training.model import source_feature

# Spark's GBT classifier (logistic loss on labels in {-1, 1}): P(y=1) = 1 / (1 + exp(-2 margin)).
LOG_ODDS_PER_MARGIN = 2.0


@dataclass(frozen=True)
class TreeEnsemble:
    """A GBT's trees as flat arrays: every tree's nodes end to end, indexed by node.

    `feature` is the split feature of a node (-1 for a leaf); a row goes left when its value is
    `<= threshold` (NaN goes right, as in Spark); `value` is the node's prediction in margin units.
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    weights: np.ndarray

    @property
    def base_value(self) -> float:
        """The log-odds every firm starts from: the weighted root values of the trees."""
        return float(LOG_ODDS_PER_MARGIN * np.dot(self.weights, self.value[self.roots]))


def extract_ensemble(model: GBTClassificationModel) -> TreeEnsemble:
    """Read the structure of every tree of a fitted Spark GBT classifier (driver side, once).

    Raises ValueError on a categorical split: the project's models see only assembled numeric
    columns, so every split is a threshold.
    """
    feature, threshold, left, right, value, roots = [], [], [], [], [], []
    for tree in model.trees:
        roots.append(len(feature))
        # Depth-first walk; children are appended later, so their indices are patched in then.
        pending = [(tree._java_obj.rootNode(), None, None)]
        while pending:
            node, parent, side = pending.pop()
            index = len(feature)
            if parent is not None:
                (left if side == "left" else right)[parent] = index
            value.append(node.prediction())
            left.append(-1)
            right.append(-1)
            if node.getClass().getSimpleName() == "InternalNode":
                split = node.split()
                if split.getClass().getSimpleName() != "ContinuousSplit":
                    raise ValueError("categorical splits are not supported in explanations")
                feature.append(split.featureIndex())
                threshold.append(split.threshold())
                pending.append((node.rightChild(), index, "right"))
                pending.append((node.leftChild(), index, "left"))
            else:
                feature.append(-1)
                threshold.append(np.nan)
    return TreeEnsemble(
        feature=np.asarray(feature, dtype=np.int64),
        threshold=np.asarray(threshold, dtype=np.float64),
        left=np.asarray(left, dtype=np.int64),
        right=np.asarray(right, dtype=np.int64),
        value=np.asarray(value, dtype=np.float64),
        roots=np.asarray(roots, dtype=np.int64),
        weights=np.asarray(model.treeWeights, dtype=np.float64),
    )


def path_contributions(ensemble: TreeEnsemble, x: np.ndarray) -> np.ndarray:
    """Per-row, per-feature contributions to the log-odds, shape (rows, features) like `x`.

    For each row, `ensemble.base_value + contributions.sum()` is the model's log-odds.
    """
    rows, n_features = x.shape
    totals = np.zeros(rows * n_features)
    row_index = np.arange(rows)[:, None]
    node = np.broadcast_to(ensemble.roots, (rows, len(ensemble.roots))).copy()
    # All trees advance one level per step, until every row sits on a leaf of every tree.
    while True:
        split_feature = ensemble.feature[node]
        internal = split_feature >= 0
        if not internal.any():
            break
        feature_index = np.where(internal, split_feature, 0)
        goes_left = x[row_index, feature_index] <= ensemble.threshold[node]
        child = np.where(internal, np.where(goes_left, ensemble.left[node], ensemble.right[node]), node)
        moved = (ensemble.value[child] - ensemble.value[node]) * ensemble.weights
        totals += np.bincount(
            (row_index * n_features + feature_index).ravel(), weights=moved.ravel(), minlength=totals.size
        )
        node = child
    return LOG_ODDS_PER_MARGIN * totals.reshape(rows, n_features)


def column_themes(columns: Sequence[str], feature_themes: Mapping[str, str] | None = None) -> list[str]:
    """The theme key of each model input column, in order.

    `feature_themes` maps feature names to theme keys (default: the catalogue's); a missing-value
    indicator added by the model pipeline has its feature's theme. Raises KeyError for a column
    that is neither a feature nor an indicator of one.
    """
    if feature_themes is None:
        feature_themes = {feature.name: feature.theme for feature in catalog.FEATURES}
    return [feature_themes[source_feature(column, list(feature_themes))] for column in columns]


def _flat_fields(max_themes: int, max_features: int) -> list[T.StructField]:
    """The flat columns that carry reasons out of the numpy batch, before they become an array."""
    fields = []
    for rank in range(max_themes):
        fields.append(T.StructField(f"_theme_{rank}", T.StringType()))
        for position in range(max_features):
            fields += [T.StructField(f"_feature_{rank}_{position}", T.StringType()),
                       T.StructField(f"_contribution_{rank}_{position}", T.DoubleType())]
    return fields


def _top_reasons(
    contributions: np.ndarray,
    columns: np.ndarray,
    themes: np.ndarray,
    theme_keys: np.ndarray,
    max_themes: int,
    max_features: int,
) -> dict[str, np.ndarray]:
    """The flat reason columns of `_flat_fields`: the themes with the largest positive totals, each
    with its features of largest positive contribution (None where there is none)."""
    rows = np.arange(len(contributions))
    membership = themes[:, None] == theme_keys[None, :]
    theme_totals = contributions @ membership
    theme_order = np.argsort(-theme_totals, axis=1, kind="stable")
    out: dict[str, np.ndarray] = {}
    for rank in range(max_themes):
        theme = theme_order[:, rank]
        total = theme_totals[rows, theme]
        kept = total > 0
        out[f"_theme_{rank}"] = np.where(kept, theme_keys[theme], None)
        in_theme = np.where(membership[:, theme].T, contributions, -np.inf)
        feature_order = np.argsort(-in_theme, axis=1, kind="stable")
        for position in range(max_features):
            feature = feature_order[:, position]
            value = in_theme[rows, feature]
            shown = kept & (value > 0)
            out[f"_feature_{rank}_{position}"] = np.where(shown, columns[feature], None)
            out[f"_contribution_{rank}_{position}"] = np.where(shown, value, np.nan)
    return out


def add_reasons(
    df: DataFrame,
    ensemble: TreeEnsemble,
    features_col: str,
    values_col: str,
    columns: Sequence[str],
    themes: Sequence[str],
    explain_col: str,
    max_themes: int,
    max_features: int,
    reasons_col: str = "reasons",
    text_col: str = "reasons_text",
) -> DataFrame:
    """Add the reasons of each row where `explain_col` is true; drop `features_col` and `values_col`.

    `features_col` holds the model's input values as array<double> (in `columns` order, with
    `themes` their theme keys); `values_col` the firm's own values before any fill, as
    array<double> with nulls, of `reason_wording(columns).value_columns`. Returns `df` with
    `reasons` (array of (theme, feature, contribution in log-odds): the `max_themes` themes that
    raised the score most, each with up to `max_features` of its columns that raised it, by
    decreasing contribution) and `reasons_text` (the same themes in French with the firm's
    figures, e.g. `Dettes sociales : dette URSSAF de 4,2 mois de cotisations (+1,3 en 3 mois) |
    Effectifs : effectif de 15 salariés (-20 % en 12 mois)`; scoring/reason_text.py); an empty
    array and an empty text where `explain_col` is false.
    """
    column_names = np.asarray(columns, dtype=object)
    theme_array = np.asarray(themes, dtype=object)
    theme_keys = np.asarray(sorted(set(themes)), dtype=object)
    wording = reason_wording(columns)
    max_themes = min(max_themes, len(theme_keys))
    max_features = min(max_features, len(columns))
    flat_fields = _flat_fields(max_themes, max_features)
    kept = [f for f in df.schema.fields if f.name not in (features_col, values_col)]
    schema = T.StructType(kept + flat_fields + [T.StructField(text_col, T.StringType())])

    def explain(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            wanted = batch[explain_col].fillna(False).to_numpy(dtype=bool)
            out = batch.drop(columns=[features_col, values_col])
            for field in flat_fields:
                out[field.name] = None if isinstance(field.dataType, T.StringType) else np.nan
            out[text_col] = ""
            if wanted.any():
                x = np.vstack(batch.loc[wanted, features_col].to_numpy()).astype(np.float64)
                # A null value arrives as NaN: the text reads it as missing.
                values = np.vstack(batch.loc[wanted, values_col].to_numpy()).astype(np.float64)
                contributions = path_contributions(ensemble, x)
                found = _top_reasons(contributions, column_names, theme_array, theme_keys, max_themes, max_features)
                for name, found_values in found.items():
                    out.loc[wanted, name] = found_values
                out.loc[wanted, text_col] = reasons_texts(contributions, values, wording, themes, max_themes,
                                                          max_features)
            yield out

    # Only the rows to explain need their inputs in Python: null the others' to lighten the transfer.
    return (
        df.withColumns({c: F.when(F.col(explain_col), F.col(c)) for c in (features_col, values_col)})
        .mapInPandas(explain, schema)
        .select(*[f.name for f in kept], _reasons_array(max_themes, max_features).alias(reasons_col), text_col)
    )


def _reasons_array(max_themes: int, max_features: int) -> Column:
    entries = [
        F.struct(
            F.col(f"_theme_{rank}").alias("theme"),
            F.col(f"_feature_{rank}_{position}").alias("feature"),
            F.col(f"_contribution_{rank}_{position}").alias("contribution"),
        )
        for rank in range(max_themes)
        for position in range(max_features)
    ]
    return F.filter(F.array(*entries), lambda reason: reason["feature"].isNotNull())
