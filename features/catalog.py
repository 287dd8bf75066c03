"""The feature catalogue: the one place that names, defines and groups every panel feature.

The README's feature table, the model's input columns and fill policy, and the themes of the alert
reasons all read this list.
"""
from __future__ import annotations

from dataclasses import dataclass

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


# Filled in by the panel's feature modules (one entry per column they add).
FEATURES: list[Feature] = []


def feature_names() -> list[str]:
    """Names of every model input, in catalogue order."""
    return [f.name for f in FEATURES]


def theme_of(name: str) -> str:
    """The theme key of a feature (raises KeyError for an unknown name)."""
    for feature in FEATURES:
        if feature.name == name:
            return feature.theme
    raise KeyError(name)
