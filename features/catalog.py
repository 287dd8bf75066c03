"""The feature catalogue: the one place that names, defines and groups every panel feature.

The README's feature table, the model's input columns and fill policy, and the themes of the alert
reasons all read this list; features/engineered.py computes what it describes, on calendar months.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

THEMES = {
    "social_debt": "Dettes sociales",
    "partial_activity": "Activité partielle",
    "headcount": "Effectifs",
    "finances": "Finances",
    "payment_delays": "Retards de paiement",
    "profile": "Profil de l'entreprise",
}


@dataclass(frozen=True)
class Feature:
    """A model input column of the panel.

    `fill_value` is what a null becomes before the model (e.g. 0 for "no debt known"); None keeps
    it missing, and the model pipeline then adds a missing-value indicator.
    """

    name: str
    formula: str
    source: str
    theme: str
    fill_value: float | None = None


# Windows, in calendar months.
LAGS = (1, 2, 3, 6, 12)
MEANS = (3, 6, 12)
DEBT_CHANGES = (3, 12)
HEADCOUNT_CHANGES = (6, 12, 24)
# How far back a row's features look: a refresh computes this many months before its first period.
LOOKBACK_MONTHS = max(*LAGS, *MEANS, *DEBT_CHANGES, *HEADCOUNT_CHANGES)

CCSF_ACTIVE_STAGES = ("DEBUT", "APPROB")
CCSF_REFUSED_STAGES = ("REFUS", "REJ")

BDF_RATIOS = (
    "working_capital_weight",
    "margin_rate",
    "supplier_delay_days",
    "tax_social_debt_weight",
    "short_term_debt_weight",
    "financial_costs_weight",
)
_BDF_MEANINGS = {
    "working_capital_weight": "working capital weight (POIDS_FRNG)",
    "margin_rate": "margin rate (TX_MARGE)",
    "supplier_delay_days": "supplier payment delay, days (DELAI_FRS)",
    "tax_social_debt_weight": "weight of tax and social debts (POIDS_DFISC_SOC)",
    "short_term_debt_weight": "weight of short-term financing (POIDS_FIN_CT)",
    "financial_costs_weight": "weight of financial costs (POIDS_FRAIS_FIN)",
}

URSSAF_DEBTS = "URSSAF debts"
URSSAF_CONTRIBUTIONS = "URSSAF contributions"
HEADCOUNT = "URSSAF headcount"
PARTIAL_ACTIVITY = "Partial activity (requests, hours used)"
BDF = "Banque de France"


def _social(name: str, formula: str, source: str = URSSAF_DEBTS, fill: float | None = 0.0) -> Feature:
    return Feature(name, formula, source, "social_debt", fill)


FEATURES: list[Feature] = [
    # Social debt and contributions
    _social("contributions_due", "contributions due for the latest month known, summed over "
            "establishments (periods spread evenly over their months), euros", URSSAF_CONTRIBUTIONS),
    _social("contributions_mean_12m", "mean of contributions_due over the last 12 months", URSSAF_CONTRIBUTIONS),
    _social("contributions_change_12m", "contributions_due / its value 12 months before - 1",
            URSSAF_CONTRIBUTIONS, None),
    _social("debt_employee", "unpaid employee contributions: latest state of each debt, summed, euros"),
    _social("debt_employer", "unpaid employer contributions: latest state of each debt, summed, euros"),
    _social("debt_total", "debt_employee + debt_employer"),
    _social("debt_over_contributions", "debt_total / contributions_mean_12m (months of contributions owed)",
            fill=None),
    _social("debt_per_employee", "debt_total / headcount, euros", f"{URSSAF_DEBTS}, {HEADCOUNT}", None),
    *[_social(f"debt_total_lag_{n}m", f"debt_total {n} month(s) before") for n in LAGS],
    *[_social(f"debt_over_contributions_lag_{n}m", f"debt_over_contributions {n} month(s) before", fill=None)
      for n in LAGS],
    *[_social(f"debt_{part}_mean_{n}m", f"mean of debt_{part} over the last {n} months")
      for part in ("employee", "employer") for n in MEANS],
    *[_social(f"debt_total_change_{n}m", f"debt_total - its value {n} months before") for n in DEBT_CHANGES],
    _social("debt_per_employee_change_3m", "debt_per_employee - its value 3 months before",
            f"{URSSAF_DEBTS}, {HEADCOUNT}", None),
    _social("debt_months_12m", "number of the last 12 months with debt_total > 0"),
    _social("payment_plan_count", "URSSAF payment plans in force during the month", "URSSAF payment plans"),
    _social("payment_plan_amount", "total amount of the payment plans in force, euros", "URSSAF payment plans"),
    _social("payment_plan_days_left", "days left at the month's end on the longest plan in force",
            "URSSAF payment plans"),
    _social("payment_plan_deviation", "(debt_total - what linear repayment would leave: sum of amount x "
            "days left / duration) / payment_plan_amount; 0 without a plan",
            f"URSSAF payment plans, {URSSAF_DEBTS}"),
    _social("ccsf_active", f"1 when the latest known CCSF stage is {' or '.join(CCSF_ACTIVE_STAGES)}",
            "URSSAF CCSF"),
    _social("ccsf_refused", f"1 when the latest known CCSF stage is {' or '.join(CCSF_REFUSED_STAGES)}",
            "URSSAF CCSF"),
    # Partial activity
    Feature("ap_hours_authorised", "partial-activity hours authorised for the month (requests spread over "
            "their days, overlapping days counted once)", PARTIAL_ACTIVITY, "partial_activity", 0.0),
    Feature("ap_hours_used", "partial-activity hours used in the month", PARTIAL_ACTIVITY, "partial_activity", 0.0),
    Feature("ap_authorised_per_employee", "ap_hours_authorised / headcount", PARTIAL_ACTIVITY,
            "partial_activity", None),
    Feature("ap_used_per_employee", "ap_hours_used / headcount", PARTIAL_ACTIVITY, "partial_activity", None),
    Feature("ap_used_months_12m", "number of the last 12 months with partial-activity hours used",
            PARTIAL_ACTIVITY, "partial_activity", 0.0),
    # Headcount
    Feature("headcount", "latest published headcount of the firm (carried while the latest months are "
            "unpublished)", HEADCOUNT, "headcount", None),
    *[Feature(f"headcount_change_{n}m", f"headcount / its value {n} months before - 1", HEADCOUNT, "headcount")
      for n in HEADCOUNT_CHANGES],
    # Finances
    # The delays are conf's (`panel.bdf_publication_months`, `panel.bdf_valid_months`): see describe().
    *[Feature(name, f"{_BDF_MEANINGS[name]} of the current balance sheet (from {{bdf_publication_months}} "
              "months after closing, for {bdf_valid_months} months)", BDF, "finances") for name in BDF_RATIOS],
    *[Feature(f"{name}_prev_year", f"{name} 12 months before (the previous balance sheet)", BDF, "finances")
      for name in BDF_RATIOS],
    # Payment delays
    Feature("paydex_days", "average days beyond terms the firm pays its suppliers (last value of the month)",
            "Paydex", "payment_delays"),
    Feature("paydex_days_change_12m", "paydex_days - its value 12 months before", "Paydex", "payment_delays"),
    # Profile
    Feature("firm_age_months", "months since the legal unit's creation", "SIRENE", "profile"),
    Feature("naf_division", "2-digit NAF division of the main activity (as a number)", "SIRENE", "profile"),
]


def feature_names() -> list[str]:
    """Names of every model input, in catalogue order."""
    return [f.name for f in FEATURES]


def theme_of(name: str) -> str:
    """The theme key of a feature (raises KeyError for an unknown name)."""
    for feature in FEATURES:
        if feature.name == name:
            return feature.theme
    raise KeyError(name)


def describe(feature: Feature, panel_rules: Mapping) -> str:
    """A feature's formula with the panel rules it names filled in (conf `panel:`, e.g. the balance
    sheets' publication delay), so the text and the computation read the same numbers."""
    return feature.formula.format(**panel_rules)


def markdown_table(panel_rules: Mapping) -> str:
    """The catalogue as a Markdown table (feature, theme, source, formula, fill), for the README;
    `panel_rules` is conf's `panel:` section."""
    lines = ["| feature | theme | source | formula | null becomes |", "|---|---|---|---|---|"]
    for f in FEATURES:
        fill = "missing (indicator)" if f.fill_value is None else f"{f.fill_value:g}"
        lines.append(f"| `{f.name}` | {THEMES[f.theme]} | {f.source} | {describe(f, panel_rules)} | {fill} |")
    return "\n".join(lines) + "\n"

