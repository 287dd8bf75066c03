"""The hidden truth of a generated economy, for tests and benchmarks only (the pipeline never reads it).

Under the truth folder:
- `firms.csv`: one row per firm: perimeter flag and reason (as drawn: a small firm may grow into the
  perimeter later), profile, fragility (its lasting weakness, standard normal, raising its hazard of
  decline), the first month with 10 employees or more (`large_month`; a small firm's is when its
  growth, from `growth_onset_month`, takes it across 10), failure month, action and kind (after a
  decline or sudden), onset of the decline that led to it, liquidation and closure months;
- `health/YYYY-MM.parquet`: per firm and month, distress (0 healthy, 1 failure),
  regime, status and headcount;
- `files.csv` and `dirty_rows.csv`: per delivered file, its data lines and bytes, and how many
  dirty rows of each kind it got;
- `params.json`: what was generated.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from synthetic import codes
from synthetic.economy import ACTIONS, AFTER_DECLINE, SUDDEN, Economy
from synthetic.extracts import FileReport
from synthetic.params import PERIMETER_REASONS, GeneratorParams
from synthetic.population import IN_PERIMETER, Population
from synthetic.reference import Reference

STATUS_NAMES = np.array(["not_created", "active", "proceeding", "liquidated", "closed"], dtype=object)
REGIME_NAMES = np.array(["stable", "declining", "recovering"], dtype=object)
OWN_ENTRIES = ("firms.csv", "health", "files.csv", "dirty_rows.csv", "params.json")


class TruthWriter:
    """Writes the truth folder as the generation goes: health month by month, the rest at the end."""

    def __init__(self, folder: Path, params: GeneratorParams, shock_month: int):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for entry in OWN_ENTRIES:
            path = folder / entry
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        described = {k: (str(v) if not isinstance(v, (int, float, dict, list, tuple)) else v)
                     for k, v in dataclasses.asdict(params).items()}
        described["shock_month"] = codes.month_date(shock_month).isoformat()
        (folder / "params.json").write_text(json.dumps(described, indent=2, sort_keys=True), encoding="utf-8")

    def month(self, pop: Population, economy: Economy, index: int) -> None:
        """Write the health of every firm that exists in month `index`."""
        month = economy.start + index
        firms = np.flatnonzero((pop.created_month <= month) & (economy.end_month >= month))
        headcount = pop.firm_sum(np.maximum(economy.headcount[:, index], 0))[firms]
        known = pop.firm_sum((economy.headcount[:, index] >= 0).astype(np.int64))[firms] > 0
        period = codes.month_date(month)
        table = pa.table({
            "siren": pa.array(pop.siren[firms].tolist(), pa.string()),
            "period": pa.array([period] * len(firms), pa.date32()),
            "distress": pa.array(economy.x[firms].astype(np.float32)),
            "regime": pa.array(REGIME_NAMES[economy.regime[firms]].tolist(), pa.string()),
            "status": pa.array(STATUS_NAMES[economy.status[firms]].tolist(), pa.string()),
            "headcount": pa.array(headcount.astype(np.int32), mask=~known),
        })
        folder = self.folder / "health"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / f"{period.isoformat()[:7]}.parquet")

    def finish(self, pop: Population, economy: Economy, reference: Reference, reports: list[FileReport]) -> None:
        """Write the per-firm truth and the accounting of every delivered file."""
        def month_text(values: np.ndarray) -> list[str]:
            return [codes.month_date(int(v)).isoformat() if v >= 0 else "" for v in values.tolist()]

        kind_names = {AFTER_DECLINE: "after_decline", SUDDEN: "sudden"}
        failed = economy.failure_month >= 0
        columns = {
            "siren": pop.siren.tolist(),
            "perimeter": np.where(pop.reason == IN_PERIMETER, "true", "false").tolist(),
            "perimeter_reason": [PERIMETER_REASONS[r] for r in pop.reason.tolist()],
            "naf": reference.naf[pop.naf].tolist(),
            "legal_category": reference.legal_code[pop.legal].tolist(),
            "departement": pop.est_dep_code[pop.first_est].tolist(),
            "region": reference.region_code[pop.region].tolist(),
            "created_date": codes.iso_date(pop.created_day),
            "size": codes.integers(pop.size),
            "establishments": codes.integers(pop.est_count),
            "headcount_delay": codes.integers(pop.delay),
            "fragility": codes.decimals(pop.fragility, 3),
            "large_month": month_text(economy.large_month),
            "growth_onset_month": month_text(economy.growth_onset),
            "failure_month": month_text(economy.failure_month),
            "failure_action": [ACTIONS[a] if f else "" for a, f in zip(economy.failure_action.tolist(),
                                                                         failed.tolist())],
            "failure_kind": [kind_names.get(k, "") for k in economy.failure_kind.tolist()],
            "decline_onset_month": month_text(np.where(failed, economy.failure_onset, -1)),
            "liquidation_month": month_text(economy.liquidation_month),
            "closure_month": month_text(economy.closure_month),
        }
        _write_csv(self.folder / "firms.csv", columns)
        _write_csv(self.folder / "files.csv", {
            "batch": [r.batch for r in reports], "source": [r.source for r in reports],
            "file": [r.file_name for r in reports], "rows": [str(r.rows) for r in reports],
            "bytes": [str(r.bytes) for r in reports]})
        dirty = [(r, kind, count) for r in reports for kind, count in sorted(r.dirty.items())]
        _write_csv(self.folder / "dirty_rows.csv", {
            "batch": [r.batch for r, _, _ in dirty], "source": [r.source for r, _, _ in dirty],
            "file": [r.file_name for r, _, _ in dirty], "kind": [k for _, k, _ in dirty],
            "rows": [str(c) for _, _, c in dirty]})


def _write_csv(path: Path, columns: dict[str, list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values()))
