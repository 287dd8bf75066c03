"""Dirty rows: about the configured share of each file, each kind really spoiled, all accounted for.

The truth's `dirty_rows.csv` must match what a reader finds in the files: ingestion tests rely on it
to check that rows read = rows loaded + rows quarantined.
"""
from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from synthetic.extracts import SPECS
from tests.synthetic.conftest import make_delivery
from tests.synthetic.files import (
    header, is_number, is_valid_date, is_valid_key, read_lines, read_rows, source_files,
)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    """A small delivery with one row in fifty spoiled, so every kind occurs in most files."""
    return make_delivery(tmp_path_factory.mktemp("dirty"), dirty_rate=0.02, firms=150, months=26, seed=5)


def _found(path, spec) -> Counter:
    """Dirty rows a reader finds in a file, by kind."""
    names = header(path, spec)
    found = Counter()
    raw_lines = path.read_bytes().split(spec.line_end.encode())[1:-1]
    for raw in raw_lines:
        if spec.encoding == "utf-8":
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                found["latin1_name"] += 1
    lines = read_lines(path, spec)
    found["duplicate_row"] = sum(a == b for a, b in zip(lines, lines[1:]))
    months = [i for i, n in enumerate(names) if n.startswith("eff")]
    for row in read_rows(path, spec):
        if len(row) < len(names):
            found["short_line"] += 1
            continue
        if spec.key and not is_valid_key(row[names.index(spec.key)], spec.key):
            found["malformed_key"] += 1
        if spec.date and not is_valid_date(row[names.index(spec.date)], spec.date_format):
            found["impossible_date"] += 1
        amounts = [row[names.index(spec.amount)]] if spec.amount else [row[i] for i in months if row[i]]
        if any(not is_number(value) for value in amounts):
            found["non_numeric_amount"] += 1
    return +found


def test_dirty_rows_in_the_files_are_those_the_truth_records(dirty):
    recorded = pd.read_csv(dirty.truth / "dirty_rows.csv", dtype={"batch": str})
    files = pd.read_csv(dirty.truth / "files.csv", dtype={"batch": str})
    kinds_seen = set()
    for spec in SPECS:
        for batch, path in source_files(dirty.raw, spec.source):
            mine = recorded[(recorded.batch == batch) & (recorded.file == spec.file_name)]
            expected = Counter(dict(zip(mine.kind, mine.rows)))
            assert _found(path, spec) == expected, (batch, spec.file_name)
            kinds_seen |= set(expected)
            rows = files[(files.batch == batch) & (files.file == spec.file_name)].rows.item()
            assert rows == len(path.read_bytes().split(spec.line_end.encode())) - 2
    assert kinds_seen == {"short_line", "malformed_key", "impossible_date", "non_numeric_amount", "latin1_name",
                          "duplicate_row"}


@pytest.mark.slow
def test_dirty_share_is_the_configured_rate(calibration):
    files = pd.read_csv(calibration.truth / "files.csv")
    recorded = pd.read_csv(calibration.truth / "dirty_rows.csv")
    rate = recorded.rows.sum() / files.rows.sum()
    assert rate == pytest.approx(calibration.params.dirty_rate, rel=0.25)
