"""The reasons in French, as a regional team reads them: the themes that raised a firm's score,
strongest first, each with its features by label, the firm's own figure and its recent change:

    Dettes sociales : dette URSSAF de 4,2 mois de cotisations (+1,3 en 3 mois) ; dette URSSAF
    totale de 12 400 € (+3 100 en 3 mois) | Effectifs : effectif de 15 salariés (-20 % en 12 mois)

The words are the catalogue's (features/catalog.py: label, unit, change, what a missing value
means). A model column reads as the feature it is of: a lag, a change, an earlier balance sheet or
a missing-value indicator names the feature itself, with that feature's figures, so the text
never shows a column name or a log-odds; those stay in the `reasons` array for analysts. Columns
that read as one feature add up their contributions; the column that raised the score most picks
the change shown (a 12-month lag: the change over 12 months). A missing value is said in words
(`effectif non publié`) or, when its feature has no words for it, left out.

Plain numpy and Python on the rows explain.py hands over: the alerted ones, batch by batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from features import catalog
from training.model import source_feature

NBSP = "\u00a0"  # between thousands and before a unit, so a figure never breaks across lines
THEME_SEPARATOR = " | "
FEATURE_SEPARATOR = " ; "
# An alerted firm whose every theme pulls its score below the model's base value has no reason.
NO_REASON_TEXT = "Aucun thème n'élève le score au-dessus de la valeur de base du modèle"
# Themes raised the score, but only through missing values the catalogue has no words for.
MISSING_DATA_TEXT = "Le score tient à des données manquantes, sans motif chiffré"


def french_number(value: float, decimals: int, signed: bool = False) -> str:
    """`value` rounded to `decimals`, written the French way: decimal comma, no-break space
    between thousands (`12 400`, `4,2`); with `signed`, a `+` before a positive number."""
    rounded = round(float(value), decimals)
    digits = f"{abs(rounded):,.{decimals}f}".replace(",", NBSP).replace(".", ",")
    return ("-" if rounded < 0 else "+" if signed else "") + digits


def _symbol(unit: catalog.Unit, shown: float) -> str:
    """The unit's symbol after the figure `shown`: singular below 2 (`1,5 jour`, `2 jours`)."""
    if unit.singular and abs(round(shown, unit.decimals)) < 2:
        return unit.singular
    return unit.symbol


def phrase(feature: catalog.Feature, value: float, change: catalog.Change | None, change_value: float) -> str | None:
    """One reason on `feature`: `<label> de <value> <unit>`, then `(<signed change> en <n> mois)`
    when `change_value` is known, e.g. `dette URSSAF de 4,2 mois de cotisations (+1,3 en 3 mois)`.

    A NaN `value` gives the feature's missing text (None when it has none: no reason to show).
    """
    if np.isnan(value):
        return feature.missing_text
    unit = catalog.UNITS[feature.unit]
    shown = value * unit.scale
    figure = unit.words[int(value != 0)] if unit.words else french_number(shown, unit.decimals)
    text = unit.template.format(label=feature.label, value=figure, symbol=_symbol(unit, shown))
    if change is None or np.isnan(change_value):
        return text
    change_unit = catalog.UNITS[change.unit or feature.unit]
    moved = change_value * change_unit.scale
    if round(moved, change_unit.decimals) == 0:
        return f"{text} (stable sur {change.months} mois)"
    amount = french_number(moved, change_unit.decimals, signed=True)
    # A change in the figure's own unit goes without the symbol, as in `(+1,3 en 3 mois)`.
    if (change.unit or feature.unit) != feature.unit:
        amount += NBSP + _symbol(change_unit, moved)
    return f"{text} ({amount} en {change.months} mois)"


@dataclass(frozen=True)
class ReasonWording:
    """How the text reads a model's input columns: `features[i]` is the catalogue feature column i
    reads as, `changes[i]` the change a reason led by column i shows, and `value_columns` the
    firm's own values the text needs (those features and the changes' columns), in the order of
    the values handed to `reasons_texts`."""

    features: tuple[catalog.Feature, ...]
    changes: tuple[catalog.Change | None, ...]
    value_columns: tuple[str, ...]


def reason_wording(columns: Sequence[str]) -> ReasonWording:
    """The wording of the model input `columns` (features and `_missing` indicators) from the
    catalogue. Raises KeyError for a column that is not a catalogue feature or an indicator of one."""
    names = catalog.feature_names()
    features, changes = [], []
    for column in columns:
        own = catalog.feature(source_feature(column, names))
        features.append(catalog.feature(own.reads_as) if own.reads_as else own)
        changes.append(own.change)
    needed = [f.name for f in features] + [c.column for c in changes if c is not None]
    return ReasonWording(tuple(features), tuple(changes), tuple(dict.fromkeys(needed)))


def reasons_texts(
    contributions: np.ndarray,
    values: np.ndarray,
    wording: ReasonWording,
    themes: Sequence[str],
    max_themes: int,
    max_features: int,
) -> list[str]:
    """The French reasons of each row: `contributions` (rows x columns, log-odds), `values` (rows x
    `wording.value_columns`, NaN where missing), `themes` the theme key of each column.

    The `max_themes` themes of largest positive total (those of the `reasons` array), strongest
    first, each with up to `max_features` features of largest positive contribution; a theme with
    nothing to say is left out. NO_REASON_TEXT when no theme raised the score, MISSING_DATA_TEXT
    when only missing values without words did.
    """
    groups = list(dict.fromkeys(zip(themes, (f.name for f in wording.features))))
    group_of = np.array([groups.index(key) for key in zip(themes, (f.name for f in wording.features))])
    theme_keys = sorted(set(themes))
    group_theme = np.array([theme_keys.index(theme) for theme, _ in groups])
    group_totals = contributions @ (group_of[:, None] == np.arange(len(groups))[None, :])
    theme_totals = group_totals @ (group_theme[:, None] == np.arange(len(theme_keys))[None, :])
    # The column that raised each group most leads it: its change is the one shown.
    lead = np.empty(group_totals.shape, dtype=np.int64)
    for group in range(len(groups)):
        members = np.flatnonzero(group_of == group)
        lead[:, group] = members[np.argmax(contributions[:, members], axis=1)]
    position = {name: i for i, name in enumerate(wording.value_columns)}
    feature_of = {feature.name: feature for feature in wording.features}
    theme_order = np.argsort(-theme_totals, axis=1, kind="stable")[:, :max_themes]
    group_order = np.argsort(-group_totals, axis=1, kind="stable")

    def group_phrase(row: int, group: int) -> str | None:
        feature = feature_of[groups[group][1]]
        value = values[row, position[feature.name]]
        change = wording.changes[lead[row, group]]
        change_value = np.nan
        if change is not None:
            change_value = values[row, position[change.column]]
            if change.since:
                change_value = value - change_value
        return phrase(feature, value, change, change_value)

    texts = []
    for row in range(len(contributions)):
        parts = []
        for theme in theme_order[row]:
            if theme_totals[row, theme] <= 0:
                break
            phrases: list[str] = []
            for group in group_order[row]:
                if group_totals[row, group] <= 0 or len(phrases) == max_features:
                    break
                text = group_phrase(row, group) if group_theme[group] == theme else None
                # Two ratios of one balance sheet missing say the same words: once is enough.
                if text is not None and text not in phrases:
                    phrases.append(text)
            if phrases:
                parts.append(f"{catalog.THEMES[theme_keys[theme]]} : {FEATURE_SEPARATOR.join(phrases)}")
        if parts:
            texts.append(THEME_SEPARATOR.join(parts))
        else:
            texts.append(NO_REASON_TEXT if theme_totals[row].max() <= 0 else MISSING_DATA_TEXT)
    return texts
