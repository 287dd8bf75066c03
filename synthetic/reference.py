"""Calibration tables of the synthetic economy, read from `conf/reference/` (see its README)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _column(rows: list[dict[str, str]], name: str, dtype=object) -> np.ndarray:
    return np.array([row[name] for row in rows], dtype=dtype)


@dataclass(frozen=True)
class Reference:
    """Every table the generator samples from, as aligned numpy arrays (one entry per table row)."""

    # départements (aligned with departements.csv)
    departement: np.ndarray
    departement_region: np.ndarray
    departement_weight: np.ndarray
    # regions
    region_code: np.ndarray
    region_bdf_label: np.ndarray
    region_latitude: np.ndarray
    region_longitude: np.ndarray
    # sectors (NAF codes)
    naf: np.ndarray
    naf_section: np.ndarray
    naf_group: np.ndarray
    naf_weight: np.ndarray
    naf_public_weight: np.ndarray
    naf_failure_mult: np.ndarray
    naf_shock_sensitivity: np.ndarray
    naf_bdf_sector: np.ndarray
    naf_name_words: list[list[str]]
    # legal categories
    legal_code: np.ndarray
    legal_group: np.ndarray
    legal_weight: np.ndarray
    # size bands
    size_min: np.ndarray
    size_max: np.ndarray
    size_share: np.ndarray
    size_category: np.ndarray
    # word lists
    names: dict[str, list[str]]

    def region_index(self, region_codes: np.ndarray) -> np.ndarray:
        """Row of each region code in the region arrays."""
        order = {code: i for i, code in enumerate(self.region_code)}
        return np.array([order[c] for c in region_codes], dtype=np.int16)


def load_reference(reference_dir: Path, files: dict[str, str]) -> Reference:
    """Read the calibration tables named in conf `generator.reference` (paths relative to `reference_dir`)."""
    deps = _rows(reference_dir / files["departements"])
    weights = {r["departement"]: float(r["population_k"]) * float(r["business_factor"])
               for r in _rows(reference_dir / files["departement_weights"])}
    missing = {r["departement"] for r in deps} - set(weights)
    if missing:
        raise ValueError(f"no firm weight for départements {sorted(missing)} in {files['departement_weights']}")
    regions = _rows(reference_dir / files["regions"])
    sectors = _rows(reference_dir / files["sectors"])
    legal = _rows(reference_dir / files["legal_categories"])
    sizes = _rows(reference_dir / files["firm_sizes"])
    with (reference_dir / files["names"]).open(encoding="utf-8") as handle:
        names = yaml.safe_load(handle)
    return Reference(
        departement=_column(deps, "departement"),
        departement_region=_column(deps, "region_code"),
        departement_weight=np.array([weights[r["departement"]] for r in deps]),
        region_code=_column(regions, "region_code"),
        region_bdf_label=_column(regions, "bdf_label"),
        region_latitude=_column(regions, "latitude", float),
        region_longitude=_column(regions, "longitude", float),
        naf=_column(sectors, "naf"),
        naf_section=_column(sectors, "section"),
        naf_group=_column(sectors, "group"),
        naf_weight=_column(sectors, "weight", float),
        naf_public_weight=_column(sectors, "public_weight", float),
        naf_failure_mult=_column(sectors, "failure_mult", float),
        naf_shock_sensitivity=_column(sectors, "shock_sensitivity", float),
        naf_bdf_sector=_column(sectors, "bdf_sector"),
        naf_name_words=[row["name_words"].split("|") for row in sectors],
        legal_code=_column(legal, "code"),
        legal_group=_column(legal, "group"),
        legal_weight=_column(legal, "weight", float),
        size_min=_column(sizes, "min", int),
        size_max=_column(sizes, "max", int),
        size_share=_column(sizes, "share", float),
        size_category=_column(sizes, "company_category"),
        names=names,
    )
