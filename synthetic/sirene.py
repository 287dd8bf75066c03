"""SIRENE stock files: establishments (`_utf8_geo` columns) and legal units.

The first batch holds the whole stock; later batches the units created or closed in their month.
A liquidated or closed firm is struck off SIRENE up to two months after its activity stops.
"""
from __future__ import annotations

import numpy as np

from synthetic import codes
from synthetic.economy import Economy
from synthetic.extracts import Columns
from synthetic.population import Population
from synthetic.reference import Reference
from synthetic.rng import stream

TRANCHE_BOUNDS = np.array([1, 3, 6, 10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000])
TRANCHE_CODES = np.array(["00", "01", "02", "03", "11", "12", "21", "22", "31", "32", "41", "42", "51", "52",
                          "53"], dtype=object)


def tranche(headcount: np.ndarray) -> list[str]:
    """INSEE headcount band codes (`00` none, `11` 10-19, ..., `53` 10,000 or more)."""
    return TRANCHE_CODES[np.searchsorted(TRANCHE_BOUNDS, headcount, side="right")].tolist()


def closure_month(pop: Population, economy: Economy) -> np.ndarray:
    """Per firm, the month SIRENE records its closure (-1 while it is active)."""
    lag = pop.siren.astype(np.int64) % 3
    ended = economy.end_month < np.iinfo(np.int64).max
    return np.where(ended, economy.end_month + lag, -1)


def changed_firms(pop: Population, economy: Economy, month: int, first_batch: bool) -> np.ndarray:
    """Firms whose SIRENE records a batch of `month` carries: all known ones first, then the changes."""
    closed = closure_month(pop, economy)
    if first_batch:
        return np.flatnonzero(pop.created_month <= month)
    return np.flatnonzero((pop.created_month == month) | (closed == month))


def _latest_headcount(economy: Economy, index: int) -> np.ndarray:
    """Each establishment's latest known headcount at month `index` (0 when it never had one)."""
    history = economy.headcount[:, : index + 1]
    known = history >= 0
    last = np.where(known.any(axis=1), index - np.argmax(known[:, ::-1], axis=1), 0)
    return np.maximum(history[np.arange(len(history)), last], 0)


def establishment_rows(pop: Population, economy: Economy, reference: Reference, firms: np.ndarray,
                       header: tuple[str, ...], seed: int, index: int) -> Columns:
    """Establishment records of `firms` as of month `index`."""
    month = economy.start + index
    est = np.concatenate([np.arange(pop.first_est[f], pop.first_est[f] + k)
                          for f, k in zip(firms.tolist(), pop.est_count[firms].tolist())] or [np.empty(0, int)])
    firm = pop.est_firm[est]
    n = len(est)
    closed_at = closure_month(pop, economy)[firm]
    closed = (closed_at >= 0) & (closed_at <= month)
    headcount = _latest_headcount(economy, index)[est]
    created = pop.created_day[firm]
    began = np.where(closed, codes.first_day(np.maximum(closed_at, 0)), created)
    # Positions are a fixed function of the establishment (own stream), not of the batch.
    geo = stream(seed, "sirene-geo")
    jitter = geo.normal(0, 0.35, (pop.n_est, 2))[est]
    region = reference.region_index(reference.departement_region[pop.est_dep[est]])
    latitude = reference.region_latitude[region] + jitter[:, 0]
    longitude = reference.region_longitude[region] + jitter[:, 1]
    street = pop.est_street[est].tolist()
    number = [s.split(" ", 1)[0] for s in street]
    street_type = [s.split(" ", 2)[1] for s in street]
    street_name = [s.split(" ", 2)[2] for s in street]
    town = [_unaccented(t) for t in pop.est_town[est].tolist()]
    postal = pop.est_postal[est].tolist()
    values = {
        "siren": pop.siren[firm].tolist(),
        "nic": pop.est_nic[est].tolist(),
        "siret": pop.est_siret[est].tolist(),
        "statutDiffusionEtablissement": ["O"] * n,
        "dateCreationEtablissement": codes.iso_date(created),
        "trancheEffectifsEtablissement": tranche(headcount),
        "anneeEffectifsEtablissement": [str(month // 12 - 1)] * n,
        "dateDernierTraitementEtablissement": codes.timestamp(began),
        "etablissementSiege": np.where(pop.est_head[est], "true", "false").tolist(),
        "nombrePeriodesEtablissement": codes.integers(1 + closed),
        "numeroVoieEtablissement": number,
        "typeVoieEtablissement": street_type,
        "libelleVoieEtablissement": [_unaccented(s) for s in street_name],
        "codePostalEtablissement": postal,
        "libelleCommuneEtablissement": town,
        "codeCommuneEtablissement": pop.est_commune[est].tolist(),
        "dateDebut": codes.iso_date(began),
        "etatAdministratifEtablissement": np.where(closed, "F", "A").tolist(),
        "activitePrincipaleEtablissement": reference.naf[pop.naf[firm]].tolist(),
        "nomenclatureActivitePrincipaleEtablissement": ["NAFRev2"] * n,
        "caractereEmployeurEtablissement": np.where(headcount > 0, "O", "N").tolist(),
        "longitude": codes.decimals(longitude, 6),
        "latitude": codes.decimals(latitude, 6),
        "geo_score": codes.decimals(0.5 + 0.49 * np.abs(np.sin(est.astype(float))), 2),
        "geo_type": ["housenumber"] * n,
        "geo_adresse": [f"{no} {t.title()} {s.title()} {p} {c.title()}" for no, t, s, p, c in
                        zip(number, street_type, street_name, postal, town)],
        "geo_id": [f"{c}_{i % 10000:04d}_{int(no):05d}" for c, i, no in
                   zip(pop.est_commune[est].tolist(), est.tolist(), number)],
        "geo_ligne": ["G"] * n,
        "geo_l4": [f"{no} {t} {_unaccented(s)}" for no, t, s in zip(number, street_type, street_name)],
    }
    return {name: values.get(name, [""] * n) for name in header}


def legal_unit_rows(pop: Population, economy: Economy, reference: Reference, firms: np.ndarray,
                    header: tuple[str, ...], index: int) -> Columns:
    """Legal-unit records of `firms` as of month `index`."""
    month = economy.start + index
    n = len(firms)
    closed_at = closure_month(pop, economy)[firms]
    closed = (closed_at >= 0) & (closed_at <= month)
    headcount = pop.firm_sum(_latest_headcount(economy, index))[firms]
    created = pop.created_day[firms]
    began = np.where(closed, codes.first_day(np.maximum(closed_at, 0)), created)
    person = pop.person[firms].tolist()
    names = pop.name[firms].tolist()
    band = pop.size_band[firms]
    category = np.where(band >= 0, reference.size_category[np.maximum(band, 0)], "PME")
    values = {
        "siren": pop.siren[firms].tolist(),
        "statutDiffusionUniteLegale": ["O"] * n,
        "dateCreationUniteLegale": codes.iso_date(created),
        "sexeUniteLegale": [p[2] if p else "" for p in person],
        "prenom1UniteLegale": [p[1] if p else "" for p in person],
        "prenomUsuelUniteLegale": [p[1] if p else "" for p in person],
        "trancheEffectifsUniteLegale": tranche(headcount),
        "anneeEffectifsUniteLegale": [str(month // 12 - 1)] * n,
        "dateDernierTraitementUniteLegale": codes.timestamp(began),
        "nombrePeriodesUniteLegale": codes.integers(1 + closed),
        "categorieEntreprise": category.tolist(),
        "anneeCategorieEntreprise": [str(month // 12 - 2)] * n,
        "dateDebut": codes.iso_date(began),
        "etatAdministratifUniteLegale": np.where(closed, "C", "A").tolist(),
        "nomUniteLegale": [p[0] if p else "" for p in person],
        "denominationUniteLegale": ["" if p else name for p, name in zip(person, names)],
        "categorieJuridiqueUniteLegale": reference.legal_code[pop.legal[firms]].tolist(),
        "activitePrincipaleUniteLegale": reference.naf[pop.naf[firms]].tolist(),
        "nomenclatureActivitePrincipaleUniteLegale": ["NAFRev2"] * n,
        "nicSiegeUniteLegale": pop.est_nic[pop.first_est[firms]].tolist(),
        "economieSocialeSolidaireUniteLegale": np.where(
            reference.legal_code[pop.legal[firms]] == "9220", "O", "N").tolist(),
        "caractereEmployeurUniteLegale": np.where(headcount > 0, "O", "N").tolist(),
    }
    return {name: values.get(name, [""] * n) for name in header}


_UNACCENT = str.maketrans("ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜ", "AAACEEEEIIOOUUU")


def _unaccented(text: str) -> str:
    """SIRENE writes addresses and towns in capitals without accents."""
    return text.translate(_UNACCENT)
