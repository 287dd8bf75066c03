"""The firms and establishments of the synthetic economy: identity, place, sector, size.

Drawn once per run, vectorised: one array per attribute, firms in `Population` order and
establishments grouped by firm (`est_firm` is sorted), so per-firm sums are `np.add.reduceat`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import codes
from synthetic.params import PERIMETER_REASONS, GeneratorParams
from synthetic.reference import Reference
from synthetic.rng import scramble, stream

IN_PERIMETER, SMALL, PUBLIC_BODY, ADMIN_EDUCATION, FINANCE = range(len(PERIMETER_REASONS))
SMALL_MAX_HEADCOUNT = 9
COMMUNES_PER_DEPARTEMENT = 60


@dataclass
class Population:
    """Static attributes of every firm (`firm_*`, `n_firms` long) and establishment (`est_*`)."""

    siren: np.ndarray              # str, 9 digits, Luhn-valid
    reason: np.ndarray             # int8 index into PERIMETER_REASONS (0 = in the perimeter)
    naf: np.ndarray                # int16 row of Reference.naf
    legal: np.ndarray              # int16 row of Reference.legal_code
    region: np.ndarray             # int16 row of Reference.region_code (head office)
    created_day: np.ndarray        # datetime64[D]
    created_month: np.ndarray      # absolute month number
    size: np.ndarray               # int, headcount at the start (or at creation)
    size_band: np.ndarray          # int8 row of Reference size bands (-1 for small firms)
    name: np.ndarray               # object: str, Latin-1 safe
    person: np.ndarray             # object: (surname, first name, sex) of sole traders, else None
    delay: np.ndarray              # int8 headcount publication delay in months
    quarterly: np.ndarray          # bool: pays contributions by quarter
    wage: np.ndarray               # float: contributions due per employee and month, euros
    bdf: np.ndarray                # bool: has Banque de France ratios
    closing_month: np.ndarray      # int8 1-12: month of the balance-sheet closing
    paydex: np.ndarray             # bool: has a paydex
    paydex_day: np.ndarray         # int8 day of the month of its paydex values
    debt_threshold: np.ndarray     # float: distress level from which contributions go unpaid
    ap_threshold: np.ndarray       # float: distress level from which partial activity is asked
    fragility: np.ndarray          # float, standard normal: the firm's lasting weakness
    hazard: np.ndarray             # float: relative hazard of decline and sudden failure
    first_est: np.ndarray          # int: index of the firm's first establishment
    est_count: np.ndarray          # int: number of establishments of each firm
    # establishments
    est_firm: np.ndarray           # int32 firm index (sorted)
    est_nic: np.ndarray            # str, 5 digits
    est_siret: np.ndarray          # str, 14 digits, Luhn-valid
    est_head: np.ndarray           # bool: head office
    est_dep: np.ndarray            # int16 row of Reference.departement
    est_dep_code: np.ndarray       # str, département code ("21", "2A", "974")
    est_commune: np.ndarray        # str, INSEE commune code (5 chars)
    est_postal: np.ndarray         # str, postal code
    est_town: np.ndarray           # object: str, upper case
    est_street: np.ndarray         # object: str, e.g. "12 RUE PASTEUR"
    est_office: np.ndarray         # str, URSSAF office code (3 digits)
    est_account: np.ndarray        # str, URSSAF account number (18 digits)
    est_weight: np.ndarray         # float: share of the firm's headcount
    est_spaced: np.ndarray         # bool: its office writes thousands with a space
    est_long_periods: np.ndarray   # bool: its office writes contribution periods YYYYQM, not YYQM

    @property
    def n_firms(self) -> int:
        """Number of firms."""
        return len(self.siren)

    @property
    def n_est(self) -> int:
        """Number of establishments."""
        return len(self.est_firm)

    def firm_sum(self, est_values: np.ndarray) -> np.ndarray:
        """Per-firm sums of a per-establishment array."""
        return np.add.reduceat(est_values, self.first_est, axis=0)


def _choice(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def _firm_counts(params: GeneratorParams) -> np.ndarray:
    """Number of firms per perimeter reason: `params.firms` inside, the configured minority outside."""
    outside = round(params.firms * params.outside_share)
    mix = np.array([params.outside_mix[r] for r in PERIMETER_REASONS[1:]], dtype=float)
    exact = outside * mix / mix.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: outside - counts.sum()]] += 1
    return np.concatenate([[params.firms], counts])


def _sectors(rng, reference: Reference, reason: np.ndarray) -> np.ndarray:
    group = reference.naf_group
    out = np.empty(len(reason), dtype=np.int16)
    pools = {
        IN_PERIMETER: np.where(group == "market", reference.naf_weight, 0.0),
        SMALL: np.where(group == "market", reference.naf_weight, 0.0),
        PUBLIC_BODY: reference.naf_public_weight,
        ADMIN_EDUCATION: np.where(group == "admin_education", reference.naf_weight, 0.0),
        FINANCE: np.where(group == "finance", reference.naf_weight, 0.0),
    }
    for code, weights in pools.items():
        rows = np.flatnonzero(reason == code)
        out[rows] = _choice(rng, weights, len(rows))
    return out


def _sizes(rng, params: GeneratorParams, reference: Reference, reason: np.ndarray):
    n = len(reason)
    band = _choice(rng, reference.size_share, n).astype(np.int8)
    low, high = reference.size_min[band], reference.size_max[band]
    # Log-uniform within the band, skewed towards its bottom: most firms sit near the band floor.
    u = rng.random(n) ** float(params.population["size_skew"])
    size = np.floor(low * ((high + 1) / low) ** u).astype(np.int64)
    small = reason == SMALL
    size[small] = 1 + np.floor(SMALL_MAX_HEADCOUNT * rng.random(small.sum()) ** 1.5).astype(np.int64)
    band[small] = -1
    return np.minimum(size, high.max()), band


def _created(rng, params: GeneratorParams, n: int):
    """Creation day and month of each firm: most long before the start, a few during the run."""
    pop = params.population
    start = np.datetime64(params.start, "D")
    age_days = (365.25 * (0.5 + rng.exponential(float(pop["firm_age_years_mean"]), n))).astype(np.int64)
    created = start - np.minimum(age_days, 365 * 80)
    new = rng.random(n) < float(pop["new_firm_share"])
    # New firms appear early enough for a year of their headcount to be published.
    span = max(params.months - 12, 1)
    new_month = codes.month_number(params.start) + rng.integers(0, span, n)
    new_days = codes.first_day(new_month) + rng.integers(0, 28, n)
    created = np.where(new, new_days, created)
    return created, created.astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _sirens(params: GeneratorParams, n: int) -> np.ndarray:
    bodies = scramble(np.arange(n), 10**8, params.seed, "siren")
    numbers = bodies * 10 + codes.luhn_check_digit(bodies, 9)
    return np.array(codes.zero_padded(numbers, 9))


def _names(rng, reference: Reference, naf: np.ndarray) -> np.ndarray:
    words = reference.names
    surnames, patterns, roots = words["surnames"], words["name_patterns"], words["town_roots"]
    n = len(naf)
    pattern = rng.integers(0, len(patterns), n).tolist()
    s1 = rng.integers(0, len(surnames), n).tolist()
    s2 = rng.integers(0, len(surnames), n).tolist()
    place = rng.integers(0, len(roots), n).tolist()
    word_pick = rng.integers(0, 1 << 30, n).tolist()
    names = []
    for i, sector in enumerate(naf.tolist()):
        sector_words = reference.naf_name_words[sector]
        names.append(patterns[pattern[i]].format(
            word=sector_words[word_pick[i] % len(sector_words)], surname=surnames[s1[i]],
            surname2=surnames[s2[i]], place=roots[place[i]]))
    return np.array(names, dtype=object)


def _sole_traders(rng, reference: Reference, legal: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Surname, first name and sex of sole traders (legal category 1000), whose name is theirs."""
    words = reference.names
    person = np.full(len(legal), None, dtype=object)
    for i in np.flatnonzero(reference.legal_code[legal] == "1000").tolist():
        sex = "M" if rng.random() < 0.6 else "F"
        first_names = words["first_names_m" if sex == "M" else "first_names_f"]
        surname = words["surnames"][int(rng.integers(0, len(words["surnames"])))]
        person[i] = (surname, first_names[int(rng.integers(0, len(first_names)))], sex)
        names[i] = f"{surname} {person[i][1]}"
    return person


def _town_table(params: GeneratorParams, reference: Reference) -> np.ndarray:
    """A town name for each (département, commune rank): object array [n_departements, communes]."""
    rng = stream(params.seed, "towns")
    words = reference.names
    shape = (len(reference.departement), COMMUNES_PER_DEPARTEMENT)
    roots = np.array(words["town_roots"] + words["town_saints"], dtype=object)
    suffixes = np.array(words["town_suffixes"], dtype=object)
    return roots[rng.integers(0, len(roots), shape)] + suffixes[rng.integers(0, len(suffixes), shape)]


def _places(rng, params: GeneratorParams, reference: Reference, dep: np.ndarray):
    """Commune code, postal code, town and street of establishments in départements `dep`."""
    n = len(dep)
    # Zipf-like: the chef-lieu (rank 0) and a few towns hold most establishments.
    rank = np.minimum(rng.zipf(1.6, n) - 1, COMMUNES_PER_DEPARTEMENT - 1)
    dep_code = reference.departement[dep]
    number = (rank * 37) % 700 + 1
    commune, postal = [], []
    for code, k, r in zip(dep_code.tolist(), number.tolist(), rank.tolist()):
        if len(code) == 3:  # overseas: 97x + 2 digits
            commune.append(f"{code}{k % 100:02d}")
            postal.append(f"{code}{(r * 10) % 100:02d}")
        else:
            commune.append(f"{code}{k:03d}")
            postal.append(f"{'20' if code in ('2A', '2B') else code}{(r * 10) % 1000:03d}")
    town = _town_table(params, reference)[dep, rank]
    words = reference.names
    street_type = np.array(words["street_types"], dtype=object)[rng.integers(0, len(words["street_types"]), n)]
    street_name = np.array(words["street_names"], dtype=object)[rng.integers(0, len(words["street_names"]), n)]
    street_no = rng.integers(1, 150, n).tolist()
    street = [f"{no} {t} {s}" for no, t, s in zip(street_no, street_type.tolist(), street_name.tolist())]
    return (np.array(commune), np.array(postal), town, np.array(street, dtype=object))


def _coverage(bounds, band: np.ndarray, n_bands: int) -> np.ndarray:
    """Coverage probability rising linearly from the smallest band to the largest."""
    low, high = (float(b) for b in bounds)
    position = np.clip(band, 0, None) / max(n_bands - 1, 1)
    return np.where(band < 0, low / 2, low + (high - low) * position)


def build_population(params: GeneratorParams, reference: Reference) -> Population:
    """Draw the firms (perimeter ones first, then the minority outside) and their establishments."""
    rng = stream(params.seed, "population")
    pop = params.population
    counts = _firm_counts(params)
    reason = np.repeat(np.arange(len(counts), dtype=np.int8), counts)
    n = len(reason)
    naf = _sectors(rng, reference, reason)
    legal_pool = np.where(reference.legal_group == "public", 0.0, reference.legal_weight)
    public_pool = np.where(reference.legal_group == "public", reference.legal_weight, 0.0)
    legal = _choice(rng, legal_pool, n).astype(np.int16)
    public = reason == PUBLIC_BODY
    legal[public] = _choice(rng, public_pool, public.sum())
    size, band = _sizes(rng, params, reference, reason)
    created_day, created_month = _created(rng, params, n)
    head_dep = _choice(rng, reference.departement_weight, n).astype(np.int16)
    region = reference.region_index(reference.departement_region[head_dep])
    n_bands = len(reference.size_share)
    delay_low, delay_high = params.headcount_delay
    # Fragile firms start declining more often, and show it (ratios, paydex, late payments).
    fragility = rng.normal(0, 1, n)
    spread = float(pop["hazard_sd"])
    hazard = reference.naf_failure_mult[naf] * np.exp(spread * fragility - spread * spread / 2)
    hazard[public] = 0.0  # public bodies cannot go insolvent
    hazard[reason == SMALL] *= float(pop["small_firm_hazard_mult"])

    # Establishments: more for bigger firms, never more than a third of the headcount.
    lam = np.maximum(size - 10, 0) * float(pop["establishments_per_employee"])
    n_est = 1 + np.minimum(rng.poisson(lam), np.minimum(size // 3, int(pop["max_establishments"])))
    n_est[reason == SMALL] = 1
    first_est = np.concatenate([[0], np.cumsum(n_est)[:-1]])
    est_firm = np.repeat(np.arange(n, dtype=np.int32), n_est)
    rank_in_firm = np.arange(len(est_firm)) - first_est[est_firm]
    head = rank_in_firm == 0
    weight = np.where(head, 1.0, rng.uniform(0.2, 0.8, len(est_firm)))
    weight /= np.add.reduceat(weight, first_est)[est_firm]
    # Secondary establishments mostly in the head office's département, some elsewhere.
    est_dep = head_dep[est_firm].copy()
    elsewhere = (~head) & (rng.random(len(est_firm)) < float(pop["establishment_elsewhere_share"]))
    est_dep[elsewhere] = _choice(rng, reference.departement_weight, elsewhere.sum())
    commune, postal, town, street = _places(rng, params, reference, est_dep)

    siren = _sirens(params, n)
    nic_body = (rng.integers(1, 40, n)[est_firm] + rank_in_firm).astype(np.int64)
    siret_body = siren[est_firm].astype(np.int64) * 10**4 + nic_body
    siret = np.array(codes.zero_padded(siret_body * 10 + codes.luhn_check_digit(siret_body, 14), 14))
    nic = np.array([s[9:] for s in siret.tolist()])
    est_region = reference.departement_region[est_dep]
    office = np.array([f"{(int(r) * 7 + 100) % 1000:03d}" for r in est_region.tolist()])
    office_number = office.astype(np.int64)
    account = scramble(np.arange(len(est_firm)), 10**15, params.seed, "account")
    account_text = np.array([o + f"{a:015d}" for o, a in zip(office.tolist(), account.tolist())])

    names = _names(rng, reference, naf)
    person = _sole_traders(rng, reference, legal, names)
    return Population(
        siren=siren, reason=reason, naf=naf, legal=legal, region=region,
        created_day=created_day, created_month=created_month, size=size, size_band=band,
        name=names, person=person,
        delay=rng.integers(delay_low, delay_high + 1, n).astype(np.int8),
        quarterly=(size < 20) & (rng.random(n) < float(pop["quarterly_payer_share"])),
        wage=float(pop["contribution_per_employee"]) * np.exp(rng.normal(0, 0.25, n)),
        bdf=rng.random(n) < _coverage(pop["bdf_coverage"], band, n_bands),
        closing_month=np.where(rng.random(n) < 0.8, 12, rng.choice([3, 6, 9], n)).astype(np.int8),
        paydex=rng.random(n) < _coverage(pop["paydex_coverage"], band, n_bands),
        paydex_day=rng.integers(1, 29, n).astype(np.int8),
        debt_threshold=rng.uniform(*pop["debt_threshold"], n),
        ap_threshold=rng.uniform(*pop["ap_threshold"], n),
        fragility=fragility, hazard=hazard,
        first_est=first_est, est_count=n_est,
        est_firm=est_firm, est_nic=nic, est_siret=siret, est_head=head, est_dep=est_dep,
        est_dep_code=reference.departement[est_dep].astype(str),
        est_commune=commune, est_postal=postal, est_town=town, est_street=street,
        est_office=office, est_account=account_text, est_weight=weight,
        est_spaced=office_number % 3 == 0,
        est_long_periods=office_number % 4 == 1,
    )
