"""Dirty rows, as real extracts have them: each spoiled row gets exactly one of these kinds.

- `short_line`: the row stops after a few fields;
- `malformed_key`: the SIRET/SIREN is too long or holds a letter (invalid even after zero-padding);
- `impossible_date`: a date that does not exist, in the column's own format (`30/02/2019`);
- `non_numeric_amount`: `N/A`, `#VALEUR!`... in an amount;
- `latin1_name`: a name typed in Latin-1 inside a UTF-8 file (bytes that do not decode);
- `duplicate_row`: the row delivered twice.
The first four and `latin1_name` are unreadable or invalid rows; a duplicate is a well-formed row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("short_line", "malformed_key", "impossible_date", "non_numeric_amount", "latin1_name", "duplicate_row")

IMPOSSIBLE_DATES = {
    "iso": lambda year: f"{year}-02-30",
    "slash": lambda year: f"30/02/{year}",
    "urssaf": lambda year: f"{year - 1900}1332",
    "english": lambda year: f"31FEB{year}",
    "french": lambda year: f"31FEV{year}",
    "period": lambda year: f"{year % 100:02d}57",
}
NON_NUMERIC = ("N/A", "#VALEUR!", "12O5", "--")


@dataclass
class SpoiledRow:
    """A row to write differently: its new field values, of which only the first `keep` are written."""

    index: int
    kind: str
    fields: list[str]
    keep: int


def spoil(columns: list[list[str]], header: tuple[str, ...], spec, rate: float,
          rng: np.random.Generator) -> list[SpoiledRow]:
    """Pick about `rate` of the rows (binomially) and spoil each with one kind that fits the file."""
    n = len(columns[0])
    count = int(rng.binomial(n, rate))
    if not count:
        return []
    kinds = spec.dirty_kinds()
    rows = np.sort(rng.choice(n, count, replace=False)).tolist()
    picks = rng.integers(0, len(kinds), count).tolist()
    years = rng.integers(2015, 2025, count).tolist()
    variants = rng.integers(0, len(NON_NUMERIC), count).tolist()
    cut = rng.integers(1, max(len(header) - 1, 2), count).tolist()
    position = {name: i for i, name in enumerate(header)}
    spoiled = []
    for row, pick, year, variant, keep in zip(rows, picks, years, variants, cut):
        kind = kinds[pick]
        fields = [column[row] for column in columns]
        width = len(header)
        if kind == "short_line":
            width = keep
        elif kind == "malformed_key":
            i = position[spec.key]
            value = fields[i]
            fields[i] = value + "0" if variant % 2 == 0 and " " not in value else value[:4] + "A" + value[5:]
        elif kind == "impossible_date":
            fields[position[spec.date]] = IMPOSSIBLE_DATES[spec.date_format](year)
        elif kind == "non_numeric_amount":
            if spec.amount:
                i = position[spec.amount]
            else:  # wide headcount file: the latest month with a value
                months = [i for i, name in enumerate(header) if name.startswith("eff")]
                filled = [i for i in months if fields[i]]
                i = (filled or months)[-1]
            fields[i] = NON_NUMERIC[variant]
        elif kind == "latin1_name":
            i = position[spec.name]
            fields[i] = f"SOCIÉTÉ {fields[i]}".strip()
        spoiled.append(SpoiledRow(row, kind, fields, width))
    return spoiled
