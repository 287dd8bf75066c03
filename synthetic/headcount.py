"""The wide headcount files (`effYYYYQM` columns), re-delivered with each batch.

A batch's file holds the last `headcount_window_months` months (the first batch: every month since
the start); each firm's latest months are blank, by its publication delay of 1 to 6 months.
"""
from __future__ import annotations

import numpy as np

from synthetic import codes
from synthetic.economy import Economy
from synthetic.extracts import Columns
from synthetic.population import Population



def month_columns(months: np.ndarray) -> list[str]:
    """`effYYYYQM` column names of absolute months (`eff201631` = July 2016)."""
    return ["eff" + code for code in codes.period_code(months, long_year=True)]


def window(first_batch_index: int, batch_index: int, size: int) -> np.ndarray:
    """Month indices (from the start) that batch `batch_index` re-delivers."""
    first = 0 if batch_index == first_batch_index else max(0, batch_index - size + 1)
    return np.arange(first, batch_index + 1)


def _cells(values: np.ndarray, blank: np.ndarray, spaced: np.ndarray) -> list[list[str]]:
    """Per month column, the texts of `values` [rows, months]: zero-padded, blank where `blank`."""
    n_rows, n_months = values.shape
    flat = codes.with_thousands(values.T.ravel(), 3, np.tile(spaced, n_months))
    cells = np.array(flat, dtype=object).reshape(n_months, n_rows)
    cells[blank.T] = ""
    return [column.tolist() for column in cells]


def _published(pop: Population, months: np.ndarray, batch_index: int, firm: np.ndarray) -> np.ndarray:
    """[rows, months]: True where a month's headcount is published by the batch (delay elapsed)."""
    return months[None, :] <= batch_index - pop.delay[firm][:, None]


def establishment_rows(pop: Population, economy: Economy, months: np.ndarray, batch_index: int) -> Columns:
    """The establishment file of a batch: one row per establishment that existed in the window."""
    values = economy.headcount[:, months]
    rows = np.flatnonzero((values >= 0).any(axis=1))
    values = values[rows]
    firm = pop.est_firm[rows]
    blank = (values < 0) | ~_published(pop, months, batch_index, firm)
    names = month_columns(economy.start + months)
    columns = {
        "compte": pop.est_account[rows].tolist(),
        "siret": pop.est_siret[rows].tolist(),
        "rais_soc": pop.name[firm].tolist(),
        "ape_ins": [naf.replace(".", "") for naf in economy.reference.naf[pop.naf[firm]].tolist()],
        "dep": pop.est_dep_code[rows].tolist(),
    }
    columns.update(zip(names, _cells(values, blank, pop.est_spaced[rows])))
    columns["base"] = pop.est_office[rows].tolist()
    columns["UR_EMET"] = [f"{(int(o) * 7919) % 900000 + 100000}" for o in pop.est_office[rows].tolist()]
    return columns


def company_rows(pop: Population, economy: Economy, months: np.ndarray, batch_index: int) -> Columns:
    """The company file of a batch: per firm, the sum of its establishments' headcounts."""
    values = economy.headcount[:, months]
    exists = pop.firm_sum((values >= 0).astype(np.int64)) > 0
    totals = pop.firm_sum(np.maximum(values, 0))
    firms = np.flatnonzero(exists.any(axis=1))
    blank = ~exists[firms] | ~_published(pop, months, batch_index, firms)
    columns = {"siren": pop.siren[firms].tolist()}
    columns.update(zip(month_columns(economy.start + months),
                       _cells(totals[firms], blank, pop.est_spaced[pop.first_est[firms]])))
    columns["rais_soc"] = pop.name[firms].tolist()
    return columns
