"""The feature catalogue: the one place that names, defines, groups and words every panel feature.

The README's feature table, the model's input columns and fill policy, the themes of the alert
reasons and the French wording of those reasons (label, unit, recent change) all read this list;
features/engineered.py computes what it describes, on calendar months.
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
class Unit:
    """How a team reads a figure: times `scale` (100: a fraction read as a percentage), rounded to
    `decimals`, followed by `symbol` (`singular` below 2, as French says `1 jour`, `2 jours`).

    `template` places the feature's label, the figure and the symbol; `words` replaces a 0/1
    value by words (no, yes).
    """

    symbol: str
    decimals: int
    scale: float = 1.0
    singular: str | None = None
    template: str = "{label} de {value}\u00a0{symbol}"
    words: tuple[str, str] | None = None


# Amounts in euros as integers, ratios and percentages of the balance sheet with one decimal.
UNITS = {
    "euros": Unit("€", 0),
    "months_of_contributions": Unit("mois de cotisations", 1),
    "share": Unit("%", 0, scale=100.0),
    "share_of_plan": Unit("% du montant du plan", 0, scale=100.0),
    "percent": Unit("%", 1),
    "points": Unit("points", 1, singular="point"),
    "days": Unit("jours", 0, singular="jour"),
    "hours": Unit("heures", 0, singular="heure"),
    "hours_per_employee": Unit("heures", 1, singular="heure"),
    "employees": Unit("salariés", 0, singular="salarié"),
    "months": Unit("mois", 0),
    "number": Unit("", 0, template="{label} : {value}"),
    "flag": Unit("", 0, template="{label} : {value}", words=("non", "oui")),
}


@dataclass(frozen=True)
class Change:
    """The recent change a reason on a feature shows, over `months` months: the value of the
    catalogue feature `column` (a `_change_` feature), or with `since` the feature's value minus
    `column`'s (a lag: the earlier value); in `unit` (a UNITS key; None: the feature's own unit)."""

    column: str
    months: int
    since: bool = False
    unit: str | None = None


@dataclass(frozen=True)
class Feature:
    """A model input column of the panel, with its French `label` and `unit` (a UNITS key).

    `fill_value` is what a null becomes before the model (e.g. 0 for "no debt known"); None keeps
    it missing, and the model pipeline then adds a missing-value indicator.

    The reasons a team reads name features by label: `reads_as` names the feature whose label and
    figures a reason on this one shows (a lag, a change or an earlier balance sheet reads as the
    feature itself; None: this one); `change` is the recent change shown beside the figure;
    `missing_text` says in words what a missing value means, and a reason on a missing value
    without it is left out of the text (e.g. no paydex known: nothing a team can act on).
    """

    name: str
    formula: str
    source: str
    theme: str
    label: str
    unit: str
    fill_value: float | None = None
    change: Change | None = None
    reads_as: str | None = None
    missing_text: str | None = None


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
# The ratios as the Banque de France names them in French, and their units (percentages but one).
_BDF_LABELS = {
    "working_capital_weight": "poids du fonds de roulement",
    "margin_rate": "taux de marge",
    "supplier_delay_days": "délai de paiement des fournisseurs",
    "tax_social_debt_weight": "poids des dettes fiscales et sociales",
    "short_term_debt_weight": "poids du financement à court terme",
    "financial_costs_weight": "poids des frais financiers",
}
_BDF_UNITS = {name: "days" if name == "supplier_delay_days" else "percent" for name in BDF_RATIOS}
# A percentage's change is in points; the delay's in days.
_BDF_CHANGE_UNITS = {name: None if unit == "days" else "points" for name, unit in _BDF_UNITS.items()}

URSSAF_DEBTS = "URSSAF debts"
URSSAF_CONTRIBUTIONS = "URSSAF contributions"
HEADCOUNT = "URSSAF headcount"
PARTIAL_ACTIVITY = "Partial activity (requests, hours used)"
BDF = "Banque de France"

# Words for missing data a team can act on (ask for the headcount, the balance sheet).
HEADCOUNT_MISSING = "effectif non publié"
BDF_MISSING = "ratios Banque de France indisponibles"
_DEBT_PARTS = {"employee": "part salariale", "employer": "part patronale"}


def _social(name: str, formula: str, label: str, unit: str, source: str = URSSAF_DEBTS, fill: float | None = 0.0,
            **wording) -> Feature:
    return Feature(name, formula, source, "social_debt", label, unit, fill, **wording)


def _since(column: str, months: int, unit: str | None = None) -> Change:
    """The change from a lag: the feature's value minus `column`, `months` months before."""
    return Change(column, months, since=True, unit=unit)


FEATURES: list[Feature] = [
    # Social debt and contributions
    _social("contributions_due", "contributions due for the latest month known, summed over "
            "establishments (periods spread evenly over their months), euros", "cotisations dues du mois",
            "euros", URSSAF_CONTRIBUTIONS, change=Change("contributions_change_12m", 12, unit="share")),
    _social("contributions_mean_12m", "mean of contributions_due over the last 12 months",
            "cotisations mensuelles moyennes sur 12 mois", "euros", URSSAF_CONTRIBUTIONS),
    _social("contributions_change_12m", "contributions_due / its value 12 months before - 1",
            "évolution des cotisations dues sur 12 mois", "share", URSSAF_CONTRIBUTIONS, None,
            reads_as="contributions_due", change=Change("contributions_change_12m", 12, unit="share")),
    _social("debt_employee", "unpaid employee contributions: latest state of each debt, summed, euros",
            "dette URSSAF part salariale", "euros"),
    _social("debt_employer", "unpaid employer contributions: latest state of each debt, summed, euros",
            "dette URSSAF part patronale", "euros"),
    _social("debt_total", "debt_employee + debt_employer", "dette URSSAF totale", "euros",
            change=Change("debt_total_change_3m", 3)),
    _social("debt_over_contributions", "debt_total / contributions_mean_12m (months of contributions owed)",
            "dette URSSAF", "months_of_contributions", fill=None, change=_since("debt_over_contributions_lag_3m", 3),
            # Null when there is a debt but no contributions to weigh it against.
            missing_text="dette URSSAF sans cotisations connues sur 12 mois"),
    _social("debt_per_employee", "debt_total / headcount, euros", "dette URSSAF par salarié", "euros",
            f"{URSSAF_DEBTS}, {HEADCOUNT}", None, change=Change("debt_per_employee_change_3m", 3)),
    *[_social(f"debt_total_lag_{n}m", f"debt_total {n} month(s) before", f"dette URSSAF totale il y a {n} mois",
              "euros", reads_as="debt_total", change=_since(f"debt_total_lag_{n}m", n)) for n in LAGS],
    *[_social(f"debt_over_contributions_lag_{n}m", f"debt_over_contributions {n} month(s) before",
              f"dette URSSAF il y a {n} mois", "months_of_contributions", fill=None,
              reads_as="debt_over_contributions", change=_since(f"debt_over_contributions_lag_{n}m", n))
      for n in LAGS],
    *[_social(f"debt_{part}_mean_{n}m", f"mean of debt_{part} over the last {n} months",
              f"dette URSSAF {words} moyenne sur {n} mois", "euros")
      for part, words in _DEBT_PARTS.items() for n in MEANS],
    *[_social(f"debt_total_change_{n}m", f"debt_total - its value {n} months before",
              f"évolution de la dette URSSAF totale sur {n} mois", "euros", reads_as="debt_total",
              change=Change(f"debt_total_change_{n}m", n)) for n in DEBT_CHANGES],
    _social("debt_per_employee_change_3m", "debt_per_employee - its value 3 months before",
            "évolution de la dette URSSAF par salarié sur 3 mois", "euros", f"{URSSAF_DEBTS}, {HEADCOUNT}", None,
            reads_as="debt_per_employee", change=Change("debt_per_employee_change_3m", 3)),
    _social("debt_months_12m", "number of the last 12 months with debt_total > 0",
            "mois avec une dette URSSAF sur les 12 derniers", "number"),
    _social("payment_plan_count", "URSSAF payment plans in force during the month",
            "plans d'apurement URSSAF en cours", "number", "URSSAF payment plans"),
    _social("payment_plan_amount", "total amount of the payment plans in force, euros",
            "montant des plans d'apurement en cours", "euros", "URSSAF payment plans"),
    _social("payment_plan_days_left", "days left at the month's end on the longest plan in force",
            "durée restante du plan d'apurement", "days", "URSSAF payment plans"),
    _social("payment_plan_deviation", "(debt_total - what linear repayment would leave: sum of amount x "
            "days left / duration) / payment_plan_amount; 0 without a plan",
            "écart de la dette au plan d'apurement", "share_of_plan", f"URSSAF payment plans, {URSSAF_DEBTS}"),
    _social("ccsf_active", f"1 when the latest known CCSF stage is {' or '.join(CCSF_ACTIVE_STAGES)}",
            "plan de règlement CCSF en cours", "flag", "URSSAF CCSF"),
    _social("ccsf_refused", f"1 when the latest known CCSF stage is {' or '.join(CCSF_REFUSED_STAGES)}",
            "demande CCSF refusée", "flag", "URSSAF CCSF"),
    # Partial activity. A per-employee ratio is missing when the headcount is: the headcount's
    # own reason says so, so theirs is left out.
    Feature("ap_hours_authorised", "partial-activity hours authorised for the month (requests spread over "
            "their days, overlapping days counted once)", PARTIAL_ACTIVITY, "partial_activity",
            "activité partielle autorisée du mois", "hours", 0.0),
    Feature("ap_hours_used", "partial-activity hours used in the month", PARTIAL_ACTIVITY, "partial_activity",
            "activité partielle consommée du mois", "hours", 0.0),
    Feature("ap_authorised_per_employee", "ap_hours_authorised / headcount", PARTIAL_ACTIVITY,
            "partial_activity", "activité partielle autorisée par salarié", "hours_per_employee", None),
    Feature("ap_used_per_employee", "ap_hours_used / headcount", PARTIAL_ACTIVITY, "partial_activity",
            "activité partielle consommée par salarié", "hours_per_employee", None),
    Feature("ap_used_months_12m", "number of the last 12 months with partial-activity hours used",
            PARTIAL_ACTIVITY, "partial_activity", "mois avec activité partielle sur les 12 derniers", "number",
            0.0),
    # Headcount
    Feature("headcount", "latest published headcount of the firm (carried while the latest months are "
            "unpublished)", HEADCOUNT, "headcount", "effectif", "employees", None,
            change=Change("headcount_change_12m", 12, unit="share"), missing_text=HEADCOUNT_MISSING),
    *[Feature(f"headcount_change_{n}m", f"headcount / its value {n} months before - 1", HEADCOUNT, "headcount",
              f"évolution de l'effectif sur {n} mois", "share", reads_as="headcount",
              change=Change(f"headcount_change_{n}m", n, unit="share")) for n in HEADCOUNT_CHANGES],
    # Finances
    # The delays are conf's (`panel.bdf_publication_months`, `panel.bdf_valid_months`): see describe().
    *[Feature(name, f"{_BDF_MEANINGS[name]} of the current balance sheet (from {{bdf_publication_months}} "
              "months after closing, for {bdf_valid_months} months)", BDF, "finances", _BDF_LABELS[name],
              _BDF_UNITS[name], change=_since(f"{name}_prev_year", 12, _BDF_CHANGE_UNITS[name]),
              missing_text=BDF_MISSING) for name in BDF_RATIOS],
    *[Feature(f"{name}_prev_year", f"{name} 12 months before (the previous balance sheet)", BDF, "finances",
              f"{_BDF_LABELS[name]} du bilan précédent", _BDF_UNITS[name], reads_as=name,
              change=_since(f"{name}_prev_year", 12, _BDF_CHANGE_UNITS[name])) for name in BDF_RATIOS],
    # Payment delays. No paydex known says nothing a team can act on: left out of the text.
    Feature("paydex_days", "average days beyond terms the firm pays its suppliers (last value of the month)",
            "Paydex", "payment_delays", "retard moyen de paiement des fournisseurs", "days",
            change=Change("paydex_days_change_12m", 12)),
    Feature("paydex_days_change_12m", "paydex_days - its value 12 months before", "Paydex", "payment_delays",
            "évolution du retard de paiement des fournisseurs sur 12 mois", "days", reads_as="paydex_days",
            change=Change("paydex_days_change_12m", 12)),
    # Profile
    Feature("firm_age_months", "months since the legal unit's creation", "SIRENE", "profile",
            "âge de l'entreprise", "months"),
    Feature("naf_division", "2-digit NAF division of the main activity (as a number)", "SIRENE", "profile",
            "division NAF", "number"),
]


def feature_names() -> list[str]:
    """Names of every model input, in catalogue order."""
    return [f.name for f in FEATURES]


def feature(name: str) -> Feature:
    """The catalogue's definition of a feature (raises KeyError for an unknown name)."""
    for candidate in FEATURES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def label_of(name: str) -> str:
    """The French label of a feature; the name itself for a column the catalogue lacks."""
    try:
        return feature(name).label
    except KeyError:
        return name


def theme_of(name: str) -> str:
    """The theme key of a feature (raises KeyError for an unknown name)."""
    return feature(name).theme


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

