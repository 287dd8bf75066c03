"""The SIREN x month panel: bronze tables in, one row per (siren, period) of perimeter firms out.

`build_panel` computes the rows of periods [`start`, `end`] only, reading as much history as the
rules and the feature windows need, so the same code serves a full rebuild and a monthly refresh
(`refresh_start` says which periods a new batch can change).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import reduce
from typing import Mapping, Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features import aggregates, catalog
from features.calendar import add_months
from features.engineered import add_features
from features.labels import add_failure_labels, failure_dates, label_name
from features.perimeter import firm_months, head_office_monthly, legal_unit_monthly

PROFILE_COLUMNS = ("siren", "period", "region", "departement", "naf", "naf_section", "legal_category",
                   "firm_age_months", "name", "town")
STATUS_COLUMNS = ("headcount_carried", "ccsf_stage")
# Monthly sums where no row means none (no debt, no hours, no plan).
ZERO_WHEN_ABSENT = ("contributions_due", "debt_employee", "debt_employer", "ap_hours_authorised", "ap_hours_used",
                    "payment_plan_count", "payment_plan_amount", "payment_plan_days_left",
                    "payment_plan_expected_remaining")


@dataclass(frozen=True)
class PanelRules:
    """The thresholds of the panel's rules (conf `panel:`)."""

    horizons: tuple[int, ...]
    debt_cutoff_day: int
    contributions_carry_months: int
    headcount_delay_months: tuple[int, int]
    headcount_carry_months: int
    bdf_publication_months: int
    bdf_valid_months: int
    paydex_valid_months: int
    min_headcount: int
    lookback_years: int
    excluded_legal_category_prefixes: tuple[str, ...]
    excluded_naf_divisions: tuple[str, ...]

    @classmethod
    def from_conf(cls, panel: Mapping, horizons: Sequence[int]) -> "PanelRules":
        """The rules of conf's `panel:` section, with the label horizons (conf `horizons`)."""
        perimeter = panel["perimeter"]
        return cls(
            horizons=tuple(horizons),
            debt_cutoff_day=panel["debt_cutoff_day"],
            contributions_carry_months=panel["contributions_carry_months"],
            headcount_delay_months=tuple(panel["headcount_delay_months"]),
            headcount_carry_months=panel["headcount_carry_months"],
            bdf_publication_months=panel["bdf_publication_months"],
            bdf_valid_months=panel["bdf_valid_months"],
            paydex_valid_months=panel["paydex_valid_months"],
            min_headcount=perimeter["min_headcount"],
            lookback_years=perimeter["lookback_years"],
            excluded_legal_category_prefixes=tuple(str(p) for p in perimeter["excluded_legal_category_prefixes"]),
            excluded_naf_divisions=tuple(str(d) for d in perimeter["excluded_naf_divisions"]),
        )


def panel_columns(horizons: tuple[int, ...]) -> list[str]:
    """The panel's columns in order: profile, catalogue features, status, failure and labels."""
    labels = [label_name(h) for h in horizons]
    return list(dict.fromkeys([*PROFILE_COLUMNS, *catalog.feature_names(), *STATUS_COLUMNS,
                               "failure_date", "after_failure", *labels]))


def monthly_aggregates(
    bronze: Mapping[str, DataFrame],
    headcount_history: DataFrame,
    rules: PanelRules,
    first_batch_month: dt.date,
    start: dt.date,
    end: dt.date,
) -> dict[str, DataFrame]:
    """Every source's monthly aggregate per (siren, period) in [start, end], by source name."""
    known = (first_batch_month, start, end)
    return {
        "contributions": aggregates.contributions_monthly(bronze["contributions"], *known,
                                                          rules.contributions_carry_months),
        "debts": aggregates.debts_monthly(bronze["debts"], *known, rules.debt_cutoff_day),
        "headcount": aggregates.headcount_monthly(headcount_history, *known, rules.headcount_delay_months,
                                                  rules.headcount_carry_months),
        "ap_requests": aggregates.ap_authorised_monthly(bronze["ap_requests"], *known),
        "ap_consumption": aggregates.ap_used_monthly(bronze["ap_consumption"], *known),
        "payment_plans": aggregates.payment_plans_monthly(bronze["payment_plans"], *known),
        "ccsf": aggregates.ccsf_monthly(bronze["ccsf"], *known),
        "bdf_ratios": aggregates.bdf_monthly(bronze["bdf_ratios"], *known, rules.bdf_publication_months,
                                             rules.bdf_valid_months),
        "paydex": aggregates.paydex_monthly(bronze["paydex"], *known, rules.paydex_valid_months),
    }


def build_panel(
    bronze: Mapping[str, DataFrame],
    headcount_history: DataFrame,
    spans: DataFrame,
    references: Mapping[str, DataFrame],
    rules: PanelRules,
    first_batch_month: dt.date,
    start: dt.date,
    end: dt.date,
) -> DataFrame:
    """The panel rows of periods [`start`, `end`]: one per perimeter firm and month, `panel_columns` order.

    `bronze` maps each bronze table's name to its DataFrame (docs/TABLES.md); `headcount_history`
    is aggregates.headcount_history of the headcount tables; `spans` is perimeter.perimeter_spans;
    `references` holds `departements` and `naf_sections`. Features look back
    catalog.LOOKBACK_MONTHS months before `start`; labels use every proceeding, up to `end`.
    """
    window_start = add_months(start, -catalog.LOOKBACK_MONTHS)
    spine = firm_months(spans, window_start, end)
    known = (first_batch_month, window_start, end)
    monthly = [
        *monthly_aggregates(bronze, headcount_history, rules, *known).values(),
        legal_unit_monthly(bronze["sirene_legal_units"], references["naf_sections"], *known),
        head_office_monthly(bronze["sirene_establishments"], references["departements"], *known),
    ]
    rows = reduce(lambda left, right: left.join(right, ["siren", "period"], "left"), monthly, spine)
    return (
        rows.fillna(0, subset=list(ZERO_WHEN_ABSENT))
        .transform(add_features)
        .filter(F.col("period") >= F.lit(start))
        .transform(add_failure_labels, failure_dates(bronze["proceedings"]), rules.horizons, end)
        .select(*panel_columns(rules.horizons))
    )


def refresh_start(
    panel_last: dt.date | None,
    first_month: dt.date,
    end: dt.date,
    first_new_opening: dt.date | None,
    first_perimeter_change: dt.date | None,
    max_horizon: int,
) -> dt.date | None:
    """The first period that new batches can change, or None when the panel already reaches `end`.

    `panel_last` is the panel's last period (None: no panel yet, build from `first_month`). Rows of
    later batches are known from their batch month, so features and the perimeter change from the
    first new month on; labels reach back `max_horizon` months, from that month or from the earliest
    opening (`first_new_opening`, the month of the earliest opening delivered since) if earlier. The
    few perimeter changes that reach earlier (perimeter.perimeter_changes) start at
    `first_perimeter_change`.
    """
    if panel_last is None:
        return first_month
    if panel_last >= end:
        return None
    earliest = add_months(panel_last, 1)
    if first_new_opening is not None:
        earliest = min(earliest, first_new_opening)
    start = add_months(earliest, -max_horizon)
    if first_perimeter_change is not None:
        start = min(start, first_perimeter_change)
    return max(first_month, start)
