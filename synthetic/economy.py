"""The hidden health of every firm, month by month, and the failures it leads to.

Each firm carries a distress level `x` (0 healthy, 1 failure) and a regime:
- stable: `x` reverts to 0 with a little noise;
- declining: `x` rises by a firm-specific speed each month, so from onset to failure takes from a few
  months to a couple of years (conf `economy.decline_months`); the channels (debts, partial activity,
  headcount, ratios, paydex) react when `x` passes each firm's own thresholds, hence varied lead times;
- recovering: `x` falls back to 0.
Declines start at random, more often in sectors and regions under a shock and after the economy-wide
shock; some declines recover; a few stable firms fail suddenly (little warning). A failure is the
opening of a proceeding (sauvegarde, redressement or liquidation), followed by its later stages;
liquidation ends the firm's activity. Small firms stay under 10 employees unless they start growing
(conf `economy.small_growth`), which takes them across 10 into the perimeter. Everything is
vectorised over firms, one call per month.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from synthetic import codes
from synthetic.params import GeneratorParams
from synthetic.population import SMALL, SMALL_MAX_HEADCOUNT, Population
from synthetic.reference import Reference
from synthetic.rng import stream

# status
NOT_CREATED, ACTIVE, PROCEEDING, LIQUIDATED, CLOSED = range(5)
# regime
STABLE, DECLINING, RECOVERING = range(3)
# proceeding actions, as written in Lib_actx_stdx
ACTIONS = ("sauvegarde", "redressement", "liquidation")
SAUVEGARDE, REDRESSEMENT, LIQUIDATION = range(3)
# scheduled next stage of a proceeding
NO_STAGE, PLAN, TO_LIQUIDATION, TO_REDRESSEMENT, CLOSING = range(5)
# how a failure came
NO_FAILURE, AFTER_DECLINE, SUDDEN = range(3)


@dataclass
class ProceedingEvents:
    """Proceeding rows of a month: one entry per firm event (`label` is the Lib_actx_stdx)."""

    firm: list[np.ndarray] = field(default_factory=list)
    label: list[np.ndarray] = field(default_factory=list)

    def add(self, firms: np.ndarray, labels) -> None:
        """Record one event per firm of `firms`, labelled `labels` (one label, or one per firm)."""
        if len(firms):
            self.firm.append(firms)
            self.label.append(np.broadcast_to(np.asarray(labels, dtype=object), firms.shape))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(firm indices, labels) of every event recorded."""
        if not self.firm:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
        return np.concatenate(self.firm), np.concatenate(self.label)


def _label(stage: str, action: np.ndarray) -> np.ndarray:
    names = np.array([f"{stage}_{a}" for a in ACTIONS], dtype=object)
    return names[action]


class Economy:
    """Firm states, stepped month by month; headcount per establishment is kept for every month."""

    def __init__(self, params: GeneratorParams, reference: Reference, population: Population):
        self.params, self.reference, self.pop = params, reference, population
        self.eco = params.economy
        self.start = codes.month_number(params.start)
        n, n_est = population.n_firms, population.n_est
        rng = stream(params.seed, "economy-initial")
        self.x = np.abs(rng.normal(0, 0.03, n))
        self.regime = np.full(n, STABLE, dtype=np.int8)
        self.drift = np.zeros(n)
        declining = rng.random(n) < float(self.eco["initial_decline_share"])
        self.regime[declining] = DECLINING
        self.x[declining] = rng.uniform(0, 0.85, declining.sum())
        self.drift[declining] = self._decline_speeds(rng, declining.sum())
        self.onset = np.where(declining, self.start - (self.x / np.maximum(self.drift, 1e-9)).astype(np.int64), -1)
        self.status = np.where(population.created_month <= self.start, ACTIVE, NOT_CREATED).astype(np.int8)
        self.end_month = np.full(n, np.iinfo(np.int64).max)        # first month without activity
        self.failure_month = np.full(n, -1, dtype=np.int64)         # first opening
        self.failure_action = np.full(n, -1, dtype=np.int8)
        self.failure_kind = np.zeros(n, dtype=np.int8)
        self.failure_onset = np.full(n, -1, dtype=np.int64)
        self.liquidation_month = np.full(n, -1, dtype=np.int64)
        self.closure_month = np.full(n, -1, dtype=np.int64)
        self.action = np.full(n, -1, dtype=np.int8)
        self.next_stage = np.zeros(n, dtype=np.int8)
        self.next_stage_month = np.full(n, -1, dtype=np.int64)
        self.headcount_float = self._initial_headcount()
        self.headcount = np.full((n_est, params.months), -1, dtype=np.int32)
        self.growth = np.zeros(n)                                   # extra monthly growth of a growing small firm
        self.growth_target = np.zeros(n)                            # ... until it has this many employees
        self.growth_onset = np.full(n, -1, dtype=np.int64)          # month a small firm started growing
        self.large_month = np.full(n, -1, dtype=np.int64)           # first month with 10 employees or more
        self.x_history = np.zeros((params.months, n), dtype=np.float32)
        self.sector_shock = np.zeros(len(reference.naf))
        self.region_shock = np.zeros(len(reference.region_code))
        self.shock_month = self._shock_month()

    def _initial_headcount(self) -> np.ndarray:
        """Each establishment's share of its firm's size, rounded so that the firm's total is its size."""
        pop = self.pop
        share = pop.size[pop.est_firm] * pop.est_weight
        # Give each firm's rounding loss to its head office, so a 10-employee firm shows 10, not 9.
        deficit = pop.size - pop.firm_sum(np.rint(share))
        share[pop.first_est] += deficit
        return share

    # -- calibration helpers -------------------------------------------------------------------
    def _decline_speeds(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shortest, longest = (float(v) for v in self.eco["decline_months"])
        months = np.exp(rng.uniform(math.log(shortest), math.log(longest), size))
        return 1.0 / months

    def _shock_month(self) -> int:
        """The absolute month of the economy-wide shock: conf's month if generated, else a set position."""
        shock = self.eco["shock"]
        year, month = (int(v) for v in str(shock["month"]).split("-"))
        wanted = year * 12 + month - 1
        if self.start <= wanted < self.start + self.params.months:
            return wanted
        return self.start + int(float(shock["fallback_position"]) * self.params.months)

    def in_support(self, month: int) -> bool:
        """True during the public support that follows the economy-wide shock."""
        return 0 <= month - self.shock_month < int(self.eco["shock"]["support_months"])

    def shock_partial_activity(self, month: int) -> float:
        """Probability scale of partial-activity requests caused by the shock in `month` (0 outside it)."""
        shock = self.eco["shock"]
        return float(shock["partial_activity_rate"]) if 0 <= month - self.shock_month < int(
            shock["partial_activity_months"]) else 0.0

    def _onset_multiplier(self, month: int) -> float:
        shock = self.eco["shock"]
        after = month - self.shock_month - int(shock["support_months"])
        return float(shock["post_support_onset_mult"]) if 0 <= after < int(shock["post_support_months"]) else 1.0

    # -- the monthly step ----------------------------------------------------------------------
    def alive(self) -> np.ndarray:
        """Firms with activity this month (created, not liquidated or closed)."""
        return (self.status == ACTIVE) | (self.status == PROCEEDING)

    def step(self, index: int) -> ProceedingEvents:
        """Advance every firm to month `index` (0 = start) and return that month's proceeding events."""
        month = self.start + index
        rng = stream(self.params.seed, "economy", index)
        pop, eco = self.pop, self.eco
        n = pop.n_firms
        events = ProceedingEvents()

        self.status[(self.status == NOT_CREATED) & (pop.created_month <= month)] = ACTIVE
        self._update_shocks(rng)
        self._evolve_health(rng, month, index)
        self._advance_proceedings(rng, month, events)
        # The first month is observed as it is: firms stop at the earliest in the second one.
        if index > 0:
            self._fail(rng, month, events)
            closing = (self.status == ACTIVE) & (rng.random(n) < float(eco["voluntary_closure_per_month"]))
            self.status[closing] = CLOSED
            self.closure_month[closing] = month
            self.end_month[closing] = month

        self._evolve_headcount(rng, month, index)
        self.x_history[index] = self.x
        return events

    def _update_shocks(self, rng: np.random.Generator) -> None:
        for name, values in (("sector_shock", self.sector_shock), ("region_shock", self.region_shock)):
            spec = self.eco[name]
            rho, sd = float(spec["rho"]), float(spec["sd"])
            values *= rho
            values += rng.normal(0, sd * math.sqrt(1 - rho * rho), len(values))

    def _evolve_health(self, rng: np.random.Generator, month: int, index: int) -> None:
        pop, eco = self.pop, self.eco
        n = pop.n_firms
        active = self.status == ACTIVE
        noise = rng.normal(0, float(eco["noise_sd"]), n)
        shock = self.sector_shock[pop.naf] + self.region_shock[pop.region]
        support = self.in_support(month)

        stable = active & (self.regime == STABLE)
        self.x[stable] = np.maximum(0, self.x[stable] * (1 - float(eco["reversion"])) + noise[stable] * 0.5)
        if month == self.shock_month:
            bump = float(eco["shock"]["strength"]) * self.reference.naf_shock_sensitivity[pop.naf]
            self.x[active] += bump[active] * rng.uniform(0.3, 1.0, active.sum())

        declining = active & (self.regime == DECLINING)
        speed = self.drift * (float(eco["shock"]["support_drift_factor"]) if support else 1.0)
        self.x[declining] = np.maximum(0, self.x[declining] + speed[declining] + noise[declining])
        recovering = active & (self.regime == RECOVERING)
        self.x[recovering] = np.maximum(0, self.x[recovering] - self.drift[recovering] + noise[recovering])
        self.regime[recovering & (self.x < 0.05)] = STABLE

        p_onset = (float(eco["decline_onset_per_month"]) * pop.hazard * np.exp(shock)
                   * self._onset_multiplier(month))
        onset = stable & (rng.random(n) < p_onset)
        self.regime[onset] = DECLINING
        self.drift[onset] = self._decline_speeds(rng, onset.sum())
        self.onset[onset] = month
        recover = declining & (rng.random(n) < float(eco["recovery_per_month"]) * np.exp(-shock))
        self.regime[recover] = RECOVERING
        self.drift[recover] = rng.uniform(*eco["recovery_speed"], recover.sum())

    def _fail(self, rng: np.random.Generator, month: int, events: ProceedingEvents) -> None:
        pop, eco = self.pop, self.eco
        n = pop.n_firms
        active = self.status == ACTIVE
        threshold = 1.0 + (float(eco["shock"]["support_threshold"]) if self.in_support(month) else 0.0)
        after_decline = active & (self.x >= threshold) & (pop.hazard > 0)
        sudden = (active & (self.regime == STABLE) & ~after_decline
                  & (rng.random(n) < float(eco["sudden_failure_per_month"]) * pop.hazard))
        failing = np.flatnonzero(after_decline | sudden)
        if not len(failing):
            return
        shares = np.array([float(eco["failure_actions"][a]) for a in ACTIONS])
        action = rng.choice(len(ACTIONS), len(failing), p=shares / shares.sum()).astype(np.int8)
        first = self.failure_month[failing] < 0
        self.failure_month[failing[first]] = month
        self.failure_action[failing[first]] = action[first]
        self.failure_kind[failing[first]] = np.where(sudden[failing[first]], SUDDEN, AFTER_DECLINE)
        self.failure_onset[failing[first]] = np.where(sudden[failing[first]], month, self.onset[failing[first]])
        self.x[failing] = np.maximum(self.x[failing], 1.0)
        self._open(rng, failing, action, month, events)

    def _open(self, rng, firms: np.ndarray, action: np.ndarray, month: int, events: ProceedingEvents) -> None:
        """Open proceedings `action` for `firms` and schedule their next stage."""
        eco = self.eco
        events.add(firms, _label("Ouverture_procedure", action))
        self.action[firms] = action
        liquidation = action == LIQUIDATION
        self._liquidate(rng, firms[liquidation], month)
        kept = firms[~liquidation]
        self.status[kept] = PROCEEDING
        kept_action = action[~liquidation]
        plan_share = np.where(kept_action == SAUVEGARDE, float(eco["plan_share"]["sauvegarde"]),
                              float(eco["plan_share"]["redressement"]))
        plan = rng.random(len(kept)) < plan_share
        self.next_stage[kept] = np.where(plan, PLAN, np.where(kept_action == SAUVEGARDE, TO_REDRESSEMENT,
                                                              TO_LIQUIDATION))
        low, high = eco["observation_months"]
        self.next_stage_month[kept] = month + rng.integers(int(low), int(high) + 1, len(kept))

    def _liquidate(self, rng, firms: np.ndarray, month: int) -> None:
        self.status[firms] = LIQUIDATED
        self.liquidation_month[firms] = month
        self.end_month[firms] = month
        self.action[firms] = LIQUIDATION
        self.next_stage[firms] = CLOSING
        low, high = self.eco["liquidation_months"]
        self.next_stage_month[firms] = month + rng.integers(int(low), int(high) + 1, len(firms))

    def _advance_proceedings(self, rng: np.random.Generator, month: int, events: ProceedingEvents) -> None:
        due = self.next_stage_month == month
        for stage in (PLAN, TO_LIQUIDATION, TO_REDRESSEMENT, CLOSING):
            firms = np.flatnonzero(due & (self.next_stage == stage))
            if not len(firms):
                continue
            self.next_stage[firms] = NO_STAGE
            self.next_stage_month[firms] = -1
            if stage == PLAN:
                events.add(firms, _label("Plan_continuation", self.action[firms]))
                self.status[firms] = ACTIVE
                self.x[firms] = rng.uniform(0.2, 0.5, len(firms))
                self.regime[firms] = RECOVERING
                self.drift[firms] = rng.uniform(*self.eco["recovery_speed"], len(firms))
            elif stage == TO_LIQUIDATION:
                events.add(firms, "Ouverture_procedure_liquidation")
                self._liquidate(rng, firms, month)
            elif stage == TO_REDRESSEMENT:
                self._open(rng, firms, np.full(len(firms), REDRESSEMENT, dtype=np.int8), month, events)
            else:
                events.add(firms, _label("Solde_procedure", self.action[firms]))

    def _start_growth(self, index: int) -> None:
        """Some active small firms start growing, each at its own pace up to its own target size."""
        spec = self.eco["small_growth"]
        # Its own stream: the rest of the economy draws as it would without growth.
        rng = stream(self.params.seed, "small-growth", index)
        n = self.pop.n_firms
        starting = ((self.pop.reason == SMALL) & (self.growth_onset < 0) & (self.status == ACTIVE)
                    & (rng.random(n) < float(spec["onset_per_month"])))
        self.growth_onset[starting] = self.start + index
        self.growth[starting] = rng.uniform(*spec["rate"], starting.sum())
        self.growth_target[starting] = rng.uniform(*spec["target"], starting.sum())

    def _evolve_headcount(self, rng: np.random.Generator, month: int, index: int) -> None:
        pop, eco = self.pop, self.eco
        self._start_growth(index)
        growing = np.where(pop.firm_sum(self.headcount_float) < self.growth_target, self.growth, 0.0)
        firm_growth = (float(eco["headcount_trend"]) + rng.normal(0, float(eco["headcount_firm_sd"]), pop.n_firms)
                       - float(eco["headcount_shrink"]) * np.minimum(self.x, 1.2) ** 1.5 + growing)
        growth = firm_growth[pop.est_firm] + rng.normal(0, float(eco["headcount_establishment_sd"]), pop.n_est)
        alive = self.alive()[pop.est_firm]
        # A firm's first month shows its drawn size; it changes from the next month on.
        changing = alive & (pop.created_month[pop.est_firm] < month) & (index > 0)
        self.headcount_float[changing] *= np.exp(growth[changing])
        # Small firms have one establishment: capping it keeps the firm under 10.
        capped = (pop.reason == SMALL)[pop.est_firm] & (self.growth_onset[pop.est_firm] < 0)
        self.headcount_float[capped] = np.minimum(self.headcount_float[capped], SMALL_MAX_HEADCOUNT + 0.4)
        self.headcount[:, index] = np.where(alive, np.maximum(np.rint(self.headcount_float), 0), -1)
        totals = pop.firm_sum(np.maximum(self.headcount[:, index], 0))
        self.large_month[(self.large_month < 0) & (totals > SMALL_MAX_HEADCOUNT)] = month
