"""Partial activity: requests (hours authorised over a span of days) and the hours used each month.

Establishments ask when their firm's distress passes its partial-activity threshold (reason 1,
economic downturn), massively in the months after the economy-wide shock (reason 5, exceptional
circumstances), and in winter for construction (reason 3, bad weather).
"""
from __future__ import annotations

import numpy as np

from synthetic import codes
from synthetic.economy import ACTIVE, Economy
from synthetic.extracts import Columns
from synthetic.population import Population
from synthetic.reference import Reference
from synthetic.rng import scramble, stream

FULL_TIME_HOURS = 151.67
FIELDS = ("est", "id", "first", "last", "authorised_staff", "hours", "rate")


class PartialActivity:
    """Requests still running, and the rows of the requests and consumption of each month."""

    def __init__(self, n_est: int) -> None:
        self.active = {name: np.empty(0, dtype=np.int64) for name in FIELDS}
        self.active.update(hours=np.empty(0), rate=np.empty(0), id=np.empty(0, dtype=object))
        self.count = 0
        self.has_asked = np.zeros(n_est, dtype=bool)

    def month_rows(self, pop: Population, economy: Economy, reference: Reference, conf: dict, seed: int,
                   index: int) -> tuple[Columns, Columns]:
        """Requests decided in month `index` and hours used in it: (ap_requests, ap_consumption) rows."""
        month = economy.start + index
        rng = stream(seed, "partial_activity", index)
        requests = self._request(pop, economy, reference, conf, seed, rng, month, index)
        consumption = self._consume(pop, economy, rng, month, index)
        return requests, consumption

    def _request(self, pop, economy, reference, conf, seed, rng, month, index) -> Columns:
        firm = pop.est_firm
        headcount = economy.headcount[:, index]
        running = np.zeros(pop.n_est, dtype=bool)
        running[self.active["est"][self.active["last"] >= month]] = True
        can = (economy.status[firm] == ACTIVE) & (headcount > 0) & ~running
        sensitivity = reference.naf_shock_sensitivity[pop.naf[firm]]
        x = economy.x[firm]
        p_distress = np.where(x > pop.ap_threshold[firm], float(conf["distress_per_month"]) * (0.3 + sensitivity), 0)
        p_shock = economy.shock_partial_activity(month) * sensitivity
        winter = month % 12 in (11, 0, 1)
        p_weather = np.where(winter & (reference.naf_section[pop.naf[firm]] == "F"),
                             float(conf["weather_per_winter_month"]), 0)
        roll = rng.random(pop.n_est)
        reason = np.select([roll < p_shock, roll < p_shock + p_distress, roll < p_shock + p_distress + p_weather],
                           [5, 1, 3], 0)
        est = np.flatnonzero(can & (reason > 0))
        reason = reason[est]
        n = len(est)
        length = np.where(reason == 5, rng.integers(3, 13, n),
                          np.where(reason == 1, rng.integers(1, 7, n), rng.integers(1, 3, n)))
        status_day = codes.first_day(np.full(n, month)) + rng.integers(0, 28, n)
        # Requests are often filed after the first days off: the span may start before the decision.
        begin = status_day - rng.integers(0, 25, n)
        end = codes.first_day(codes.month_number_of(begin) + length) - 1
        staff = np.maximum(1, np.rint(headcount[est] * rng.uniform(0.3, 1.0, n))).astype(np.int64)
        hours_per_head = np.where(reason == 5, rng.uniform(60, FULL_TIME_HOURS, n), rng.uniform(15, 100, n))
        days = (end - begin).astype(np.int64) + 1
        authorised = np.round(staff * hours_per_head * days / 30.4, 2)
        rate = np.round(rng.uniform(7.5, 11.0, n), 2)
        ids = scramble(np.arange(self.count, self.count + n), 26 * 10**9, seed, "ap-id")
        self.count += n
        id_text = np.array([f"{chr(97 + i // 10**9)}{i % 10**9:09d}" for i in ids.tolist()], dtype=object)
        previous = self.has_asked[est]
        self.has_asked[est] = True
        new = {"est": est, "id": id_text, "first": np.full(n, month), "last": codes.month_number_of(end),
               "authorised_staff": staff, "hours": authorised / np.maximum(length, 1), "rate": rate}
        self.active = {name: np.concatenate([self.active[name], new[name]]) for name in FIELDS}
        f = firm[est]
        company_headcount = pop.firm_sum(np.maximum(headcount, 0))[f]
        zeros = codes.floats(np.zeros(n))
        return {
            "ID_DA": id_text.tolist(),
            "ETAB_SIRET": pop.est_siret[est].tolist(),
            "EFF_ENT": codes.floats(company_headcount),
            "EFF_ETAB": codes.floats(headcount[est]),
            "DATE_STATUT": codes.iso_date(status_day),
            "DATE_DEB": codes.iso_date(begin),
            "DATE_FIN": codes.iso_date(end),
            "HTA": codes.floats(authorised),
            "MTA": codes.floats(np.round(authorised * rate, 2)),
            "EFF_AUTO": codes.floats(staff),
            "MOTIF_RECOURS_SE": codes.integers(reason),
            "PERIMETRE_AP": np.where(staff >= headcount[est], "1", "2").tolist(),
            "S_HEURE_CONSOM_TOT": zeros,
            "S_EFF_CONSOM_TOT": zeros,
            "S_MONTANT_CONSOM_TOT": zeros,
            "RECOURS_ANTERIEUR": np.where(previous, "1", "2").tolist(),
        }

    def _consume(self, pop, economy, rng, month, index) -> Columns:
        a = self.active
        firm = pop.est_firm[a["est"]]
        using = (a["first"] <= month) & (a["last"] >= month) & (economy.status[firm] == ACTIVE)
        rows = np.flatnonzero(using)
        n = len(rows)
        hours = np.round(a["hours"][rows] * rng.uniform(0.2, 1.0, n), 2)
        staff = np.round(a["authorised_staff"][rows] * rng.uniform(0.5, 1.0, n))
        keep = a["last"] > month
        self.active = {name: values[keep] for name, values in a.items()}
        return {
            "ID_DA": a["id"][rows].tolist(),
            "ETAB_SIRET": pop.est_siret[a["est"][rows]].tolist(),
            "HEURES": codes.floats(hours),
            "MONTANTS": codes.floats(np.round(hours * a["rate"][rows], 2)),
            "EFFECTIFS": codes.floats(staff),
            "MOIS": codes.iso_date(codes.first_day(np.full(n, month))),
        }
