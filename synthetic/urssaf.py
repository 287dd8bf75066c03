"""URSSAF extracts: contributions due, debts, payment plans, CCSF and proceedings, month by month.

Contributions of a period are due on the 15th of the next month, so month `m` delivers the
contributions of period `m - 1` (and of the quarter ending then, for quarterly payers). A period a
distressed firm leaves unpaid becomes a debt, whose later operations (partial or full repayment,
penalties, a proceeding's freeze) are rows of their own; a debt row states what is left to pay.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import codes
from synthetic.economy import ACTIVE, PROCEEDING, Economy, ProceedingEvents
from synthetic.extracts import Columns
from synthetic.population import Population
from synthetic.rng import scramble, stream


# Cd_op_ecn: what an operation did to a debt.
OP_CREATED, OP_PARTIAL, OP_PAID, OP_PENALTY, OP_PROCEEDING = "1", "2", "3", "4", "5"
CCSF_NONE, CCSF_PENDING, CCSF_APPROVED = range(3)


def _days_in(rng: np.random.Generator, month: int, size: int, low: int = 1, high: int = 28) -> np.ndarray:
    """Random days of an absolute month, between day `low` and day `high` included."""
    return codes.first_day(np.full(size, month)) + rng.integers(low - 1, high, size)


def _is_quarter_end(month: int) -> bool:
    return month % 12 % 3 == 2


def _period_codes(months: np.ndarray, quarterly: np.ndarray, long_year: np.ndarray) -> list[str]:
    """URSSAF period codes: a month or a whole quarter, with a 2- or 4-digit year."""
    texts = np.empty(len(months), dtype=object)
    for quarter in (False, True):
        for long in (False, True):
            rows = (quarterly == quarter) & (long_year == long)
            if rows.any():
                texts[rows] = codes.period_code(months[rows], long, quarter=quarter)
    return texts.tolist()


@dataclass
class Unpaid:
    """Periods left unpaid this month, one entry per establishment and period: the debts to open."""

    est: np.ndarray
    period: np.ndarray      # absolute month (first month of the quarter for quarterly payers)
    quarterly: np.ndarray   # bool
    cents: np.ndarray       # int64 amount left unpaid


def contributions(pop: Population, economy: Economy, conf: dict, seed: int, index: int) -> tuple[Columns, Unpaid]:
    """Contribution rows delivered in month `index` (period `index - 1`, or the quarter ending then).

    Returns the rows (one per establishment with employees and period) and what was left unpaid.
    """
    month = economy.start + index
    rng = stream(seed, "contributions", index)
    if index == 0:
        empty = np.empty(0, dtype=np.int64)
        return {}, Unpaid(empty, empty, np.empty(0, dtype=bool), empty)
    firm = pop.est_firm
    alive = economy.alive()[firm]
    quarterly = pop.quarterly[firm]
    monthly_rows = alive & ~quarterly & (economy.headcount[:, index - 1] > 0)
    period = month - 1
    employees = np.maximum(economy.headcount[:, index - 1], 0).astype(np.float64)
    if _is_quarter_end(period) and index >= 3:
        quarter = np.maximum(economy.headcount[:, index - 3:index], 0).sum(axis=1).astype(np.float64)
        quarterly_rows = alive & quarterly & (quarter > 0)
        employees = np.where(quarterly, quarter, employees)
    else:
        quarterly_rows = np.zeros_like(monthly_rows)
    rows = np.flatnonzero(monthly_rows | quarterly_rows)
    is_quarter = quarterly_rows[rows]
    due = np.rint(100 * employees[rows] * pop.wage[firm[rows]] * rng.normal(1, 0.03, len(rows))).astype(np.int64)
    due = np.maximum(due, 100)

    # Unpaid: likely once distress passes the firm's threshold; now and then for a healthy firm.
    f = firm[rows]
    x, threshold = economy.x[f], pop.debt_threshold[f]
    distress = np.clip((x - threshold) / np.maximum(1 - threshold, 0.05), 0, None)
    one_off = float(conf["one_off_per_month"]) * np.exp(0.5 * pop.fragility[f])
    p_miss = np.where(x > threshold, np.minimum(0.95, float(conf["miss_base"]) + float(conf["miss_slope"]) * distress),
                      one_off)
    p_miss = np.where(economy.status[f] == PROCEEDING, float(conf["miss_in_proceeding"]), p_miss)
    missed = rng.random(len(rows)) < p_miss
    share = np.where(x > threshold, rng.uniform(0.4, 1.0, len(rows)), rng.uniform(0.5, 1.0, len(rows)))
    unpaid = np.where(missed, np.rint(due * share).astype(np.int64), 0)

    first_month = np.where(is_quarter, period - 2, period)
    columns = {
        "Urssaf_gestion": pop.est_office[rows].tolist(),
        "Dep": pop.est_dep_code[rows].tolist(),
        "Siret": pop.est_siret[rows].tolist(),
        "Compte": pop.est_account[rows].tolist(),
        "periode": _period_codes(np.full(len(rows), period), is_quarter, pop.est_long_periods[rows]),
        "mer": codes.cents_as_euros(unpaid, comma=True),
        "enc_direct": codes.cents_as_euros(due - unpaid, comma=True),
        "cotis_due": codes.cents_as_euros(due, comma=True),
    }
    owed = unpaid > 0
    return columns, Unpaid(rows[owed], first_month[owed], is_quarter[owed], unpaid[owed])


DEBT_FIELDS = ("est", "period", "quarterly", "number", "history", "employee", "employer", "reason", "appeal")


class DebtBook:
    """Open debts (one per establishment and unpaid period) and the rows their operations produce.

    Arrays per debt: establishment, period (absolute month), quarterly flag, `Num_Ecn`, history
    number, employee and employer parts left to pay (cents), reason code, appeal flag.
    """

    def __init__(self) -> None:
        empty = np.empty(0, dtype=np.int64)
        self.debts = {name: empty for name in DEBT_FIELDS}
        self.debts.update(quarterly=np.empty(0, dtype=bool), appeal=np.empty(0, dtype=bool),
                          reason=np.empty(0, dtype=object))

    def owed_by_establishment(self, n_est: int) -> np.ndarray:
        """Total owed per establishment, in cents."""
        d = self.debts
        return np.bincount(d["est"], weights=d["employee"] + d["employer"], minlength=n_est)

    def month_rows(self, pop: Population, economy: Economy, unpaid: Unpaid, plan_until: np.ndarray,
                   conf: dict, seed: int, index: int) -> Columns:
        """Operate on open debts, open this month's new ones, and return one row per operation."""
        month = economy.start + index
        rng = stream(seed, "debts", index)
        touched, operation = self._operate(pop, economy, plan_until, conf, rng, month)
        first_new = len(self.debts["est"])
        self._open(unpaid, conf, rng)
        rows = np.concatenate([touched, np.arange(first_new, len(self.debts["est"]))])
        operation = np.concatenate([operation, np.full(len(unpaid.est), OP_CREATED, dtype=object)])
        snapshot = {name: values[rows] for name, values in self.debts.items()}
        open_ = (self.debts["employee"] + self.debts["employer"]) > 0
        self.debts = {name: values[open_] for name, values in self.debts.items()}
        return _debt_columns(pop, economy, snapshot, operation, rng, month)

    def _operate(self, pop, economy, plan_until, conf, rng, month) -> tuple[np.ndarray, np.ndarray]:
        """Apply this month's repayments, penalties and proceeding freezes; return (debts, operation)."""
        d = self.debts
        n = len(d["est"])
        firm = pop.est_firm[d["est"]]
        status = economy.status[firm]
        distressed = economy.x[firm] > pop.debt_threshold[firm]
        roll = rng.random(n)
        p_full = np.where(distressed, conf["repay_full"][1], conf["repay_full"][0])
        p_partial = np.where(plan_until[d["est"]] >= month, float(conf["plan_partial"]),
                             np.where(distressed, conf["repay_partial"][1], conf["repay_partial"][0]))
        active = status == ACTIVE
        full = active & (roll < p_full)
        partial = active & ~full & (roll < p_full + p_partial)
        penalty = active & distressed & ~full & ~partial & (roll > 1 - float(conf["penalty"]))
        # At the opening of a proceeding every open debt is declared (and frozen from then on).
        frozen = (status == PROCEEDING) & (economy.failure_month[firm] == month)
        keep = rng.uniform(0.2, 0.7, n)
        for part in ("employee", "employer"):
            amount = d[part]
            d[part] = np.where(full, 0, np.where(partial, np.rint(amount * keep).astype(np.int64),
                                                 np.where(penalty, amount * 11 // 10, amount)))
        operation = np.select([full, partial, penalty, frozen],
                              [OP_PAID, OP_PARTIAL, OP_PENALTY, OP_PROCEEDING], "").astype(object)
        touched = full | partial | penalty | frozen
        d["history"] = d["history"] + touched
        return np.flatnonzero(touched), operation[touched]

    def _open(self, unpaid: Unpaid, conf, rng) -> None:
        n = len(unpaid.est)
        employee = np.rint(unpaid.cents * rng.uniform(0.25, 0.35, n)).astype(np.int64)
        new = {
            "est": unpaid.est, "period": unpaid.period, "quarterly": unpaid.quarterly,
            "number": rng.integers(100, 1000, n), "history": np.ones(n, dtype=np.int64),
            "employee": employee, "employer": unpaid.cents - employee,
            "reason": rng.choice(np.array(conf["reasons"], dtype=object), n),
            "appeal": rng.random(n) < float(conf["appeal_share"]),
        }
        self.debts = {name: np.concatenate([self.debts[name], new[name]]) for name in DEBT_FIELDS}


def _debt_columns(pop: Population, economy: Economy, debts: dict, operation: np.ndarray, rng,
                  month: int) -> Columns:
    est = debts["est"]
    firm = pop.est_firm[est]
    n = len(est)
    # New debts are processed after the due date (the 15th); later operations on any day.
    low = np.where(operation == OP_CREATED, 16, 1)
    processed = codes.first_day(np.full(n, month)) + low - 1 + np.floor(
        rng.random(n) * (29 - low)).astype(np.int64)
    period = _period_codes(debts["period"], debts["quarterly"], np.ones(n, dtype=bool))
    in_proceeding = economy.status[firm] == PROCEEDING
    return {
        "Urssaf_gestion": pop.est_office[est].tolist(),
        "Dep": pop.est_dep_code[est].tolist(),
        "num_cpte": pop.est_account[est].tolist(),
        "Siren": pop.siren[firm].tolist(),
        "Siret": pop.est_siret[est].tolist(),
        "Dt_immat": codes.compact_date(pop.created_day[firm]),
        "Etat_cpte": codes.integers(np.where(in_proceeding, 2, 1)),
        "Cd_pro_col": codes.integers(np.where(in_proceeding, economy.action[firm] + 1, 0)),
        "Periode": period,
        "Num_Ecn": codes.integers(debts["number"]),
        "Num_Hist_Ecn": codes.integers(debts["history"]),
        "Dt_trt_ecn": codes.urssaf_date(processed),
        "Mt_PO": codes.integers(debts["employee"]),
        "Mt_PP": codes.integers(debts["employer"]),
        "Cd_op_ecn": operation.tolist(),
        "Motif_ecn": debts["reason"].tolist(),
        "Recours_en_cours": codes.integers(debts["appeal"].astype(int)),
    }


class PaymentPlans:
    """Payment plans (délais) granted to establishments in debt, and the months they run until."""

    def __init__(self, n_est: int) -> None:
        self.until = np.full(n_est, -1, dtype=np.int64)   # last month of each establishment's plan
        self.count = 0

    def month_rows(self, pop: Population, economy: Economy, owed_cents: np.ndarray, conf: dict, seed: int,
                   index: int) -> Columns:
        """Plans created in month `index`: one row each (refused ones included, they change nothing)."""
        month = economy.start + index
        rng = stream(seed, "payment_plans", index)
        firm = pop.est_firm
        eligible = ((economy.status[firm] == ACTIVE) & (economy.x[firm] > pop.debt_threshold[firm])
                    & (owed_cents > 0) & (self.until < month))
        est = np.flatnonzero(eligible & (rng.random(pop.n_est) < float(conf["per_month"])))
        n = len(est)
        created = _days_in(rng, month, n)
        duration = rng.integers(int(conf["days"][0]), int(conf["days"][1]) + 1, n)
        approved = rng.random(n) >= float(conf["refused_share"])
        self.until[est[approved]] = month + duration[approved] // 30
        case = scramble(np.arange(self.count, self.count + n), 10**10, seed, "plan-case")
        self.count += n
        comma = (np.array([int(o) for o in pop.est_office[est].tolist()], dtype=np.int64) % 2) == 1
        amount = codes.cents_as_euros(owed_cents[est].astype(np.int64), comma=False)
        amount = [a.replace(".", ",") if c else a for a, c in zip(amount, comma.tolist())]
        year, _, _ = codes.split_dates(created)
        f = firm[est]
        return {
            "Urssaf_gestion": pop.est_office[est].tolist(),
            "Dep": pop.est_dep_code[est].tolist(),
            "Siret": pop.est_siret[est].tolist(),
            "Numero_compte_externe": pop.est_account[est].tolist(),
            "Numero_structure": [o + f"{c:010d}" for o, c in zip(pop.est_office[est].tolist(), case.tolist())],
            "Date_creation": codes.slash_date(created),
            "Date_echeance": codes.slash_date(created + duration),
            "Duree_delai": codes.integers(duration),
            "Denomination_premiere_ligne": pop.name[f].tolist(),
            "Indic_6M": np.where(duration > 180, "SUP", "INF").tolist(),
            "Annee_creation": codes.integers(year),
            "Montant_global_echeancier": amount,
            "Code_externe_stade": np.where(approved, "APPROB", "REFUS").tolist(),
            "Code_externe_action": [str(conf["action"])] * n,
        }


class Ccsf:
    """Requests to the debt committee (CCSF), per firm through its head office account."""

    def __init__(self, n_firms: int) -> None:
        self.stage = np.full(n_firms, CCSF_NONE, dtype=np.int8)
        self.next = np.full(n_firms, -1, dtype=np.int64)
        self.approve = np.zeros(n_firms, dtype=bool)

    def month_rows(self, pop: Population, economy: Economy, owed_cents: np.ndarray, conf: dict, seed: int,
                   index: int) -> Columns:
        """CCSF stages processed in month `index`: starts, decisions, ends (or breaks, on failure)."""
        month = economy.start + index
        rng = stream(seed, "ccsf", index)
        firm_owed = pop.firm_sum(owed_cents)
        n = pop.n_firms
        start = ((self.stage == CCSF_NONE) & (economy.status == ACTIVE) & (economy.x > float(conf["threshold"]))
                 & (firm_owed > 0) & (rng.random(n) < float(conf["per_month"])))
        due = self.next == month
        decided = due & (self.stage == CCSF_PENDING)
        ended = due & (self.stage == CCSF_APPROVED)
        failed = (self.stage == CCSF_APPROVED) & (economy.status != ACTIVE) & ~ended

        stages = np.full(n, "", dtype=object)
        stages[start] = "DEBUT"
        stages[decided] = np.where(self.approve[decided], "APPROB", "REFUS")
        stages[ended] = "FIN"
        stages[failed] = "REJ"
        self.approve[start] = rng.random(start.sum()) >= float(conf["refused_share"])
        self.next[start] = month + rng.integers(1, 4, start.sum())
        self.stage[start] = CCSF_PENDING
        approved_now = decided & self.approve
        self.stage[approved_now] = CCSF_APPROVED
        low, high = conf["plan_months"]
        self.next[approved_now] = month + rng.integers(int(low), int(high) + 1, approved_now.sum())
        closed = (decided & ~self.approve) | ended | failed
        self.stage[closed] = CCSF_NONE
        self.next[closed] = -1

        firms = np.flatnonzero(stages != "")
        est = pop.first_est[firms]
        return {
            "Urssaf_gestion": pop.est_office[est].tolist(),
            "Dep": pop.est_dep_code[est].tolist(),
            "Siret": pop.est_siret[est].tolist(),
            "Compte": pop.est_account[est].tolist(),
            "Date_de_traitement": codes.urssaf_date(_days_in(rng, month, len(firms))),
            "Code_externe_stade": stages[firms].tolist(),
            "Code_externe_action": ["CCSF"] * len(firms),
        }


def proceedings(pop: Population, events: ProceedingEvents, seed: int, index: int, month: int) -> Columns:
    """Proceeding rows of month `index`: each firm event repeated for every establishment of the firm."""
    rng = stream(seed, "proceedings", index)
    firms, labels = events.arrays()
    day = _days_in(rng, month, len(firms))
    repeat = pop.est_count[firms]
    est = np.concatenate([np.arange(pop.first_est[f], pop.first_est[f] + k) for f, k in
                          zip(firms.tolist(), repeat.tolist())] or [np.empty(0, dtype=np.int64)])
    firm = pop.est_firm[est]
    return {
        "Siret": pop.est_siret[est].tolist(),
        "Siren": pop.siren[firm].tolist(),
        "Dt_effet": codes.english_date(np.repeat(day, repeat)),
        "Cat_v2": ["1"] * len(est),
        "Lib_actx_stdx": np.repeat(labels, repeat).tolist(),
    }
