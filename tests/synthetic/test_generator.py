"""What each batch holds (docs/TABLES.md "Deliveries"), determinism, and the job's options."""
from __future__ import annotations

import datetime as dt
import os

import pytest

from features.calendar import add_months, batch_month
from jobs.generate_extracts import main
from synthetic.extracts import SPEC_BY_SOURCE
from tests.synthetic.conftest import make_delivery
from tests.synthetic.files import clean_records, header, is_valid_date, parse_date, source_files


def test_first_batch_holds_the_history_then_one_batch_a_month(tiny):
    # 30 months from 2019-01 with 24 months of history: 2012 (Dec 2020), then 2101..2106.
    assert tiny.report.batches == ["2012", "2101", "2102", "2103", "2104", "2105", "2106"]
    assert sorted(p.name for p in tiny.raw.iterdir()) == tiny.report.batches


def _dates_by_batch(raw, source, column, date_format=None):
    fmt = date_format or SPEC_BY_SOURCE[source].date_format
    return [(batch, parse_date(rec[column], fmt)) for batch, rec in clean_records(raw, source)
            if is_valid_date(rec[column], fmt)]


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


@pytest.mark.parametrize("source,column,date_format", [
    ("debts", "Dt_trt_ecn", None), ("payment_plans", "Date_creation", None), ("ccsf", "Date_de_traitement", None),
    ("proceedings", "Dt_effet", None), ("ap_requests", "DATE_STATUT", "iso"), ("ap_consumption", "MOIS", None),
    ("paydex", "DATE_VALEUR", None)])
def test_dated_rows_come_in_the_batch_of_their_month(tiny, source, column, date_format):
    dates = _dates_by_batch(tiny.raw, source, column, date_format)
    first = tiny.report.batches[0]
    later = [(b, d) for b, d in dates if b != first]
    assert later, f"no {source} rows after the first batch"
    assert all(_month(d) == batch_month(b) for b, d in later)
    history = [d for b, d in dates if b == first]
    assert history and min(history) >= tiny.params.start and max(history) < add_months(batch_month(first), 1)


def test_contributions_come_the_month_after_their_period(tiny):
    for batch, rec in clean_records(tiny.raw, "contributions"):
        if not is_valid_date(rec["periode"], "period"):
            continue
        period = parse_date(rec["periode"], "period")
        quarter = rec["periode"].endswith("0")
        due = add_months(period, 3 if quarter else 1)
        if batch != tiny.report.batches[0]:
            assert due == batch_month(batch), rec
        else:
            assert due <= batch_month(batch), rec


def test_balance_sheets_come_seven_months_after_closing(tiny):
    first = tiny.report.batches[0]
    for batch, closing in _dates_by_batch(tiny.raw, "bdf_ratios", "ARRETE_BILAN"):
        known = add_months(_month(closing), 7)
        if batch == first:
            assert add_months(tiny.params.start, -12) <= known <= batch_month(batch)
        else:
            assert known == batch_month(batch)


def test_headcount_files_redeliver_a_window_with_recent_months_blank(tiny):
    spec = SPEC_BY_SOURCE["headcount_company"]
    window = tiny.params.headcount_window
    for batch, path in source_files(tiny.raw, "headcount_company"):
        months = [n for n in header(path, spec) if n.startswith("eff")]
        expected = 24 if batch == tiny.report.batches[0] else window
        assert len(months) == expected
        assert months[-1] == "eff" + f"{batch_month(batch).year}{(batch_month(batch).month - 1) // 3 + 1}" \
                                    f"{(batch_month(batch).month - 1) % 3 + 1}"
    records = [rec for _, rec in clean_records(tiny.raw, "headcount_company")]
    latest = [rec[max(k for k in rec if k.startswith("eff"))] for rec in records]
    assert all(value == "" for value in latest)  # the delay is at least one month
    low, high = tiny.params.headcount_delay
    blanks = set()
    for rec in records:
        values = [v for k, v in sorted(rec.items()) if k.startswith("eff")]
        trailing = len(values) - len("".join("x" if v else " " for v in values).rstrip())
        blanks.add(trailing)
    assert min(blanks) >= low and max(blanks) >= high - 1


def test_later_sirene_batches_hold_only_new_and_closed_units(tiny):
    first = tiny.report.batches[0]
    counts = {"new": 0, "closed": 0}
    for batch, rec in clean_records(tiny.raw, "sirene_legal_units"):
        if batch == first:
            continue
        month = batch_month(batch)
        if rec["etatAdministratifUniteLegale"] == "C":
            assert _month(dt.date.fromisoformat(rec["dateDebut"])) == month
            counts["closed"] += 1
        else:
            assert _month(dt.date.fromisoformat(rec["dateCreationUniteLegale"])) == month
            counts["new"] += 1
    assert counts["closed"] > 0


def _tree_bytes(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_arguments_give_identical_bytes(tmp_path):
    first = make_delivery(tmp_path / "a", firms=80, months=15, seed=3)
    second = make_delivery(tmp_path / "b", firms=80, months=15, seed=3)
    assert _tree_bytes(first.raw) == _tree_bytes(second.raw)
    assert _tree_bytes(first.truth) == _tree_bytes(second.truth)
    other = make_delivery(tmp_path / "c", firms=80, months=15, seed=4)
    assert _tree_bytes(other.raw) != _tree_bytes(first.raw)


def test_job_writes_then_keeps_or_replaces_existing_batches(tmp_path):
    out, truth = tmp_path / "raw", tmp_path / "truth"
    args = ["--out", str(out), "--truth-dir", str(truth), "--firms", "20", "--months", "3", "--start", "2022-01",
            "--history-months", "24"]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["2203"]  # three months: all in the history batch
    assert (truth / "firms.csv").exists()
    stamp = (out / "2203" / "sigfaible_debits.csv").stat().st_mtime_ns
    assert main([*args, "--if-missing", "--months", "5"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["2203"]
    assert (out / "2203" / "sigfaible_debits.csv").stat().st_mtime_ns == stamp
    with pytest.raises(FileExistsError):
        main(args)
    assert main([*args, "--overwrite", "--months", "26"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["2312", "2401", "2402"]
    assert not os.path.exists(out / "2203")
