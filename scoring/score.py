"""Scoring a month of the panel with the champion models: probabilities, alerts, reasons.

Every function takes the models and the period as arguments; loading them from MLflow and reading
and writing tables is the job's (jobs/score.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping, Sequence

from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from scoring.alerts import NONE, AlertPolicy, assign_alert_level, cap_new_high_alerts, flag_first_alert
from scoring.explain import add_reasons, column_themes, extract_ensemble
from scoring.reason_text import reason_wording
from training.model import assembler_inputs, gbt_stage, with_positive_probability

IDENTITY_COLUMNS = ["siren", "period", "region", "departement", "name", "town", "naf", "headcount"]
IN_PROCEEDINGS_COLUMNS = IDENTITY_COLUMNS + ["failure_date"]
HISTORY_SCHEMA = "siren string, period date, alert_level string"


@dataclass(frozen=True)
class Champion:
    """The model of one horizon used for scoring, with its registry name, version, run params, the
    theme of each of its features (as recorded at training; empty: the catalogue's) and its drift
    reference."""

    horizon: int
    name: str
    version: str
    model: PipelineModel
    params: Mapping[str, str]
    themes: Mapping[str, str]
    reference: Mapping | None = None  # its drift reference (training/profile.py); None: none logged


def probability_col(horizon: int) -> str:
    """The scores' column of a horizon's probability: `p_<h>m`."""
    return f"p_{horizon}m"


def score_columns(horizons: Sequence[int]) -> list[str]:
    """The columns of the scores table, in order (docs/TABLES.md, "Scores")."""
    return IDENTITY_COLUMNS + [probability_col(h) for h in horizons] + [
        "alert_level", "first_alert", "reasons", "reasons_text", "model_version"
    ]


def model_version_label(champions: Sequence[Champion]) -> str:
    """The versions used, e.g. `failure_12m:3,failure_18m:3,failure_24m:2`."""
    return ",".join(f"{c.name}:{c.version}" for c in sorted(champions, key=lambda c: c.horizon))


def live_firms(panel: DataFrame, period: dt.date) -> DataFrame:
    """The panel rows of `period` to score: every perimeter firm not at or after its failure."""
    return panel.where((F.col("period") == F.lit(period)) & ~F.coalesce(F.col("after_failure"), F.lit(False)))


def firms_in_proceedings(panel: DataFrame, period: dt.date) -> DataFrame:
    """The firms of `period` already in proceedings (at or after their failure): listed, not scored.
    One row per SIREN, columns IN_PROCEEDINGS_COLUMNS."""
    return panel.where((F.col("period") == F.lit(period)) & F.col("after_failure")).select(*IN_PROCEEDINGS_COLUMNS)


def model_inputs(model: PipelineModel) -> tuple[str, list[str]]:
    """The GBT's assembled features column and the input columns assembled into it, in order."""
    return gbt_stage(model).getFeaturesCol(), assembler_inputs(model)


def ordered_horizons(scores: DataFrame, columns: Sequence[str]) -> DataFrame:
    """`scores` with each probability of `columns` (shortest horizon first) raised to the one
    before it where it is lower, so that p_12m <= p_18m <= p_24m on every row.

    A failure within 12 months is a failure within 18, so the true probabilities are ordered;
    each horizon's model, fitted and calibrated on its own, need not be. The running maximum is
    the smallest change that orders them: a probability is only ever raised, to the shorter
    horizon's, which has the stronger evidence (its label is the rarer event).
    """
    ordered = {}
    for before, column in zip(columns, columns[1:]):
        previous = ordered.get(before, F.col(before))
        ordered[column] = F.greatest(previous, F.col(column))
    return scores.withColumns(ordered) if ordered else scores


def add_probabilities(
    firms: DataFrame,
    champions: Sequence[Champion],
    keep_inputs_of: int,
    inputs_col: str,
    keep: Sequence[str],
    values_col: str,
    value_columns: Sequence[str],
) -> DataFrame:
    """The `keep` columns of `firms` with `p_<h>m` for each champion (ordered across horizons, see
    `ordered_horizons`), `inputs_col` (array<double>):
    the model inputs of the `keep_inputs_of` horizon's champion, as its trees see them, and
    `values_col` (array<double>): the firm's own `value_columns`, before any fill (null where
    missing). Same rows as `firms`.
    """
    # Each pipeline fills nulls in place: carry the firm's own values in a struct, so every model
    # sees the panel's values, not the previous model's filled ones.
    packed = firms.select(F.struct(*firms.columns).alias("_firm"))
    for champion in champions:
        scored = champion.model.transform(packed.select("*", "_firm.*"))
        scored = with_positive_probability(scored, probability_col(champion.horizon))
        kept = [F.col(c) for c in packed.columns] + [F.col(probability_col(champion.horizon))]
        if champion.horizon == keep_inputs_of:
            kept.append(vector_to_array(model_inputs(champion.model)[0]).alias(inputs_col))
        packed = scored.select(*kept)
    packed = ordered_horizons(packed, [probability_col(h) for h in sorted(c.horizon for c in champions)])
    # Only what scoring needs goes on: the features would weigh on every shuffle and batch after.
    values = F.array(*[F.col(f"_firm.{c}").cast("double") for c in value_columns]).alias(values_col)
    return packed.select(*[F.col(f"_firm.{c}") for c in keep], values, *[c for c in packed.columns if c != "_firm"])


def score_period(
    firms: DataFrame,
    history: DataFrame,
    period: dt.date,
    champions: Sequence[Champion],
    policy: AlertPolicy,
) -> DataFrame:
    """The scores of `period`: one row per firm of `firms` (live panel rows of that month), with
    probabilities, alert level (capped per region), first-alert flag, reasons and model versions.

    `history` holds earlier scores (`siren, period, alert_level`). Columns: `score_columns`.
    """
    explained = next((c for c in champions if c.horizon == policy.horizon), None)
    if explained is None:
        raise ValueError(f"no champion for the alert horizon {policy.horizon}")
    _, inputs = model_inputs(explained.model)
    horizons = sorted(c.horizon for c in champions)
    alerted = F.col("alert_level") != NONE
    return (
        firms.transform(add_probabilities, champions, policy.horizon, "_inputs", IDENTITY_COLUMNS, "_values",
                        reason_wording(inputs).value_columns)
        .transform(
            assign_alert_level, probability_col(policy.horizon), policy.threshold_high, policy.threshold_moderate
        )
        # Only alerted rows are explained, and no level turns to none after this (the cap makes
        # highs moderate): drop the others' arrays before the shuffles of the cap and first alerts.
        .withColumns({c: F.when(alerted, F.col(c)) for c in ("_inputs", "_values")})
        .transform(cap_new_high_alerts, history, period, policy.new_high_cap, probability_col(policy.horizon))
        .transform(flag_first_alert, history, period, policy.lookback_months)
        .withColumn("_explain", alerted)
        .transform(
            add_reasons, extract_ensemble(gbt_stage(explained.model)), "_inputs", "_values", inputs,
            column_themes(inputs, explained.themes or None), "_explain", policy.max_themes, policy.max_features,
        )
        .withColumn("model_version", F.lit(model_version_label(champions)))
        .select(*score_columns(horizons))
    )

