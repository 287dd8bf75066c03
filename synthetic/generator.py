"""Generate a synthetic delivery: monthly batch folders in the real formats, and the hidden truth.

Streams month by month: each month's rows go straight to the files of the batch that delivers them
(the first batch holds `history_months` months), so memory holds firm states, not rows.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from features.calendar import batch_name
from synthetic import codes, finance, headcount, sirene, urssaf
from synthetic.activity import PartialActivity
from synthetic.economy import Economy
from synthetic.extracts import SPEC_BY_SOURCE, BatchWriter, FileReport
from synthetic.params import GeneratorParams
from synthetic.population import build_population
from synthetic.reference import load_reference
from synthetic.truth import TruthWriter

log = logging.getLogger(__name__)
BATCH_FOLDER = re.compile(r"^\d{4}$")


@dataclass
class GenerationReport:
    """What a run wrote: batches, per-file reports, totals, and the size of its month-long histories."""

    batches: list[str]
    files: list[FileReport]
    history_bytes: int = 0   # per-firm histories kept for every month (headcount, distress)

    @property
    def rows(self) -> int:
        """Data lines written, headers excluded."""
        return sum(f.rows for f in self.files)

    @property
    def bytes(self) -> int:
        """Bytes written."""
        return sum(f.bytes for f in self.files)


def existing_batches(folder: Path) -> list[str]:
    """Names of the batch folders (`YYMM`) already in `folder`."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and BATCH_FOLDER.match(p.name))


def batch_names(params: GeneratorParams) -> list[str]:
    """The batch folders a run writes: the history batch, then one per month."""
    first = params.first_batch_index
    return [batch_name(codes.month_date(codes.month_number(params.start) + i))
            for i in range(first, params.months)]


def generate(params: GeneratorParams, out_dir: Path, truth_dir: Path) -> GenerationReport:
    """Simulate the economy and write every batch under `out_dir` and the truth under `truth_dir`."""
    started = time.monotonic()
    reference = load_reference(params.reference_dir, params.reference_files)
    pop = build_population(params, reference)
    economy = Economy(params, reference, pop)
    log.info("population: %d firms (%d in the perimeter), %d establishments, in %.1fs",
             pop.n_firms, params.firms, pop.n_est, time.monotonic() - started)
    channels = params.channels
    seed = params.seed
    debts, plans = urssaf.DebtBook(), urssaf.PaymentPlans(pop.n_est)
    ccsf, partial = urssaf.Ccsf(pop.n_firms), PartialActivity(pop.n_est)
    truth = TruthWriter(truth_dir, params, economy.shock_month)
    first_batch = params.first_batch_index
    reports: list[FileReport] = []
    batches: list[str] = []
    writer = None
    batch_started = time.monotonic()
    for index in range(params.months):
        month = economy.start + index
        batch_index = max(index, first_batch)
        if writer is None:
            name = batch_name(codes.month_date(economy.start + batch_index))
            writer = BatchWriter(out_dir / name, name, params.dirty_rate, seed, batch_index)
        events = economy.step(index)
        rows, unpaid = urssaf.contributions(pop, economy, channels["contributions"], seed, index)
        writer.append("contributions", rows)
        writer.append("debts", debts.month_rows(pop, economy, unpaid, plans.until, channels["debts"], seed, index))
        owed = debts.owed_by_establishment(pop.n_est)
        writer.append("payment_plans", plans.month_rows(pop, economy, owed, channels["payment_plans"], seed, index))
        writer.append("ccsf", ccsf.month_rows(pop, economy, owed, channels["ccsf"], seed, index))
        writer.append("proceedings", urssaf.proceedings(pop, events, seed, index, month))
        requests, used = partial.month_rows(pop, economy, reference, channels["partial_activity"], seed, index)
        writer.append("ap_requests", requests)
        writer.append("ap_consumption", used)
        # The first month also delivers the balance sheets published in the year before the start.
        for publication in range(month - 12 if index == 0 else month, month + 1):
            writer.append("bdf_ratios", finance.bdf_rows(pop, economy, reference, publication, seed))
        writer.append("paydex", finance.paydex_rows(pop, economy, seed, index))
        truth.month(pop, economy, index)
        if index < batch_index:
            continue
        months = headcount.window(first_batch, index, params.headcount_window)
        writer.append("headcount_establishment", headcount.establishment_rows(pop, economy, months, index))
        writer.append("headcount_company", headcount.company_rows(pop, economy, months, index))
        firms = sirene.changed_firms(pop, economy, month, first_batch=index == first_batch)
        writer.append("sirene_establishments", sirene.establishment_rows(
            pop, economy, reference, firms, SPEC_BY_SOURCE["sirene_establishments"].header, seed, index))
        writer.append("sirene_legal_units", sirene.legal_unit_rows(
            pop, economy, reference, firms, SPEC_BY_SOURCE["sirene_legal_units"].header, index))
        batch_reports = writer.close()
        reports.extend(batch_reports)
        batches.append(writer.batch)
        log.info("batch %s: %d rows, %.1f MB in %.1fs", writer.batch, sum(r.rows for r in batch_reports),
                 sum(r.bytes for r in batch_reports) / 1e6, time.monotonic() - batch_started)
        writer, batch_started = None, time.monotonic()
    truth.finish(pop, economy, reference, reports)
    return GenerationReport(batches, reports, economy.headcount.nbytes + economy.x_history.nbytes)
