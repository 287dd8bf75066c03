"""Banque de France ratios (yearly balance sheets) and paydex (supplier payment delays, monthly).

Both worsen with the firm's distress: margins and working capital fall, supplier delays, tax and
social debts and short-term financing rise; paydex days beyond terms climb.
"""
from __future__ import annotations

import numpy as np

from synthetic import codes
from synthetic.economy import Economy
from synthetic.extracts import Columns
from synthetic.population import Population
from synthetic.reference import Reference
from synthetic.rng import stream

PUBLICATION_DELAY = 7  # months from a balance sheet's closing to its availability
FRAGILITY_WEIGHT = 0.6  # correlation of a firm's usual ratios with its fragility

# ratio: (healthy mean, firm spread, effect of distress 0 -> 1, yearly noise, lower bound)
RATIOS = {
    "POIDS_FRNG": (20.0, 15.0, -45.0, 5.0, None),
    "TX_MARGE": (25.0, 8.0, -30.0, 3.0, None),
    "DELAI_FRS": (55.0, 15.0, 60.0, 8.0, 0.0),
    "POIDS_DFISC_SOC": (18.0, 5.0, 35.0, 3.0, 0.0),
    "POIDS_FIN_CT": (4.0, 4.0, 25.0, 3.0, 0.0),
    "POIDS_FRAIS_FIN": (1.5, 1.0, 8.0, 0.5, 0.0),
}


def bdf_rows(pop: Population, economy: Economy, reference: Reference, publication: int, seed: int) -> Columns:
    """Balance sheets that become known in absolute month `publication` (closing + 7 months).

    Balance sheets closed before the start use the firm's distress at the start.
    """
    closing = publication - PUBLICATION_DELAY
    covered = (pop.bdf & (pop.closing_month == closing % 12 + 1) & (pop.created_month <= closing - 12)
               & (economy.end_month > closing))
    firms = np.flatnonzero(covered)
    index = max(closing - economy.start, 0)
    x = np.minimum(economy.x_history[index, firms], 1.2)
    # A firm's usual ratios: partly its own, partly its fragility (weaker margins, heavier debts...).
    own = stream(seed, "bdf-firm").normal(0, 1, (pop.n_firms, len(RATIOS)))[firms]
    sign = np.sign([effect for _, _, effect, _, _ in RATIOS.values()])
    base = FRAGILITY_WEIGHT * pop.fragility[firms, None] * sign + np.sqrt(1 - FRAGILITY_WEIGHT**2) * own
    noise = stream(seed, "bdf-year", publication).normal(0, 1, (len(firms), len(RATIOS)))
    columns = {
        "D1": codes.spaced_siren(pop.siren[firms].tolist()),
        "ANNEE": [str(publication // 12)] * len(firms),
        "ARRETE_BILAN": codes.french_date(np.full(len(firms), codes.first_day(np.array([closing + 1]))[0] - 1)),
        "DENOM": pop.name[firms].tolist(),
        "CP": pop.est_postal[pop.first_est[firms]].tolist(),
        "REGION": reference.region_bdf_label[pop.region[firms]].tolist(),
        "SECTEUR": reference.naf_bdf_sector[pop.naf[firms]].tolist(),
    }
    for k, (name, (mean, spread, effect, yearly, low)) in enumerate(RATIOS.items()):
        value = mean + spread * base[:, k] + effect * x + yearly * noise[:, k]
        if low is not None:
            value = np.maximum(value, low)
        columns[name] = codes.decimals(value, 1)
    return columns


def paydex_rows(pop: Population, economy: Economy, seed: int, index: int) -> Columns:
    """Paydex values dated in month `index`: days beyond terms, one value per covered active firm."""
    month = economy.start + index
    firms = np.flatnonzero(pop.paydex & economy.alive())
    base = stream(seed, "paydex-firm").exponential(5.0, pop.n_firms)[firms] * np.exp(0.5 * pop.fragility[firms])
    noise = stream(seed, "paydex", index).normal(0, 2.0, len(firms))
    days = np.maximum(0, np.rint(base + 50 * np.minimum(economy.x[firms], 1.2) ** 1.3 + noise)).astype(np.int64)
    dates = codes.first_day(np.full(len(firms), month)) + pop.paydex_day[firms] - 1
    return {
        "SIREN": pop.siren[firms].tolist(),
        "NB_JOURS": codes.integers(days),
        "NB_JOURS_LIB": [f"{d} jours" for d in days.tolist()],
        "DATE_VALEUR": codes.slash_date(dates),
    }
