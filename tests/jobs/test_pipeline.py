"""The monthly refresh: what it decides to run (missing and late batches, retraining, months to
score), and end to end on a tiny generated delivery (slow)."""
import datetime as dt
import logging

import pytest

from jobs import build_panel, delta_io, ingest, train
from jobs.pipeline import late_batches, missing_batches, periods_to_score, run, should_train
from tests.training.tiny_gbt import tiny_champions, tiny_panel_month

MAY, JUNE = dt.date(2024, 5, 1), dt.date(2024, 6, 1)


def month(text):
    return dt.date.fromisoformat(f"{text}-01")


def test_missing_batches_are_the_months_without_a_folder():
    assert missing_batches(["2403", "2406", "2404"]) == ["2405"]
    assert missing_batches(["2411", "2502"]) == ["2412", "2501"]
    assert missing_batches(["2403"]) == [] and missing_batches([]) == []


def test_late_batches_are_new_ones_older_than_the_latest_ingested():
    assert late_batches(["2405", "2407"], ["2404", "2406"]) == ["2405"]
    assert late_batches(["2407"], ["2404", "2406"]) == []
    assert late_batches(["2401", "2402"], []) == []


def test_retraining_policy():
    assert should_train("missing_champion", champions_missing=True, new_data=False)
    assert not should_train("missing_champion", champions_missing=False, new_data=True)
    assert should_train("always", champions_missing=False, new_data=True)
    assert not should_train("always", champions_missing=False, new_data=False)
    assert not should_train("never", champions_missing=True, new_data=True)
    with pytest.raises(ValueError, match="retrain policy"):
        should_train("sometimes", True, True)


def test_months_to_score():
    panel = [month(m) for m in ("2024-01", "2024-02", "2024-03", "2024-04")]
    # First run: the latest month only, not the whole history.
    assert periods_to_score(panel, [], rescore_latest=False) == [month("2024-04")]
    # Months since the last scored one, oldest first (first alerts and caps need the order).
    assert periods_to_score(panel, [month("2024-01"), month("2024-02")], False) == [month("2024-03"), month("2024-04")]
    # Up to date: nothing, unless a late batch changed the latest month.
    assert periods_to_score(panel, panel, rescore_latest=False) == []
    assert periods_to_score(panel, panel, rescore_latest=True) == [month("2024-04")]
    assert periods_to_score([], [], rescore_latest=True) == []


@pytest.fixture
def refresh_setup(spark, conf, tmp_path, monkeypatch):
    """Batches 2405 and 2406 on disk, a panel of May and June 2024, tiny champions; ingestion, the
    panel build and training replaced by recorders (ingestion logs the batches it finds)."""
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    for batch in ("2405", "2406"):
        (raw / batch).mkdir(parents=True)
    panel = tiny_panel_month(spark, MAY, seed=21).unionByName(tiny_panel_month(spark, JUNE))
    delta_io.overwrite(panel, lake / "panel", ["period"])
    calls = []

    def fake_ingest(spark, conf):
        calls.append("ingest")
        logged = [{"batch": b, "source": "debts", "file": "sigfaible_debits.csv", "rows_read": 1, "rows_loaded": 1,
                   "rows_quarantined": 0} for b in ingest.batch_folders(raw)]
        delta_io.overwrite(ingest.log_rows(spark, logged), lake / "ingest_log")
        errors = ["2408/notes.txt: file name matches no known extract"] if (raw / "2408").exists() else []
        return {"rows_loaded": len(logged), "errors": errors}

    monkeypatch.setattr(ingest, "run", fake_ingest)
    monkeypatch.setattr(build_panel, "run", lambda spark, conf, full: calls.append(f"panel full={full}") or {})
    monkeypatch.setattr(train, "run", lambda spark, conf: calls.append("train") or {})
    with tiny_champions(conf, spark, tmp_path) as uri:
        job_conf = conf.with_overrides(raw_dir=str(raw), lake_dir=str(lake), exports_dir=str(tmp_path / "exports"))
        job_conf["mlflow"] = {**conf["mlflow"], "tracking_uri": uri}
        yield job_conf, calls


def test_refresh_runs_what_has_work_then_nothing(spark, refresh_setup, caplog):
    conf, calls = refresh_setup
    exports, scores = conf.path("exports_dir"), conf.path("lake_dir") / "scores"

    done = run(spark, conf, "missing_champion")
    assert sorted(done) == ["export", "ingest", "panel", "score"] and done["score"]["periods"] == ["2024-06"]
    # Champions exist: no training; nothing scored yet: the latest month only; every region exported.
    assert calls == ["ingest", "panel full=False"]
    assert delta_io.periods(spark, scores) == [JUNE]
    assert sorted(p.relative_to(exports).as_posix() for p in exports.rglob("*.*")) == [
        "11/2024-06.csv", "11/2024-06.xlsx", "27/2024-06.csv", "27/2024-06.xlsx"]
    version = delta_io.current_version(spark, scores)

    calls.clear()
    with caplog.at_level(logging.INFO, logger="jobs.pipeline"):
        assert run(spark, conf, "missing_champion") == {}
    assert calls == [] and "nothing to do" in caplog.text
    assert delta_io.current_version(spark, scores) == version

    # A batch older than those ingested arrives: panel rebuilt in full, the latest month re-scored.
    (conf.path("raw_dir") / "2404").mkdir()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jobs.pipeline"):
        run(spark, conf, "missing_champion")
    assert calls == ["ingest", "panel full=True"] and "late batch(es) 2404" in caplog.text
    assert delta_io.current_version(spark, scores) == version + 1 and delta_io.periods(spark, scores) == [JUNE]

    # A month missing before a new batch: a warning, and the refresh goes on; `always` retrains. A
    # file ingestion could not load fails the run, after the stages ran on the files that loaded.
    (conf.path("raw_dir") / "2408").mkdir()
    calls.clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jobs.pipeline"), pytest.raises(ingest.IngestError, match="2408"):
        run(spark, conf, "always")
    assert calls == ["ingest", "panel full=False", "train"] and "batch(es) 2407 missing" in caplog.text


def test_exports_skip_a_firm_without_region_and_say_so(spark, tmp_path, caplog):
    from jobs import delta_io
    from jobs.config import load_config
    from jobs.pipeline import export_all_regions
    from tests.jobs.session_settings import settings_kept
    from tests.jobs.test_export_region import JUNE, SCORES, score_row

    rows = [score_row("000000001", JUNE, "27", 0.70, "high", True),
            score_row("000000002", JUNE, None, 0.80, "high", True)]  # head office unknown
    lake = tmp_path / "lake"
    delta_io.replace_where(spark.createDataFrame(rows, SCORES), lake / "scores", "true", ["region", "period"])
    conf = load_config().with_overrides(lake_dir=str(lake), exports_dir=str(tmp_path / "exports"))
    with settings_kept(spark), caplog.at_level("WARNING"):
        counts = export_all_regions(spark, conf, JUNE)
    assert counts == {"regions": 1, "rows": 1}
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["27"]
    assert "1 scored firm(s) of 2024-06 have no region" in caplog.text
