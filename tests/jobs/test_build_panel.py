"""`python -m jobs.build_panel` on the hand-made bronze lake of tests/features/bronze_rows.py.

One sequence, shared by the tests: batches 2401-2402 ingested and the panel built (version 0);
batch 2403 ingested and the panel refreshed (version 1); rebuilt with --full (version 2); run
again with nothing new; batch 2404 (SMALL reaches 10 employees, NEWCO falls below) ingested and
the panel refreshed (version 3); rebuilt with --full (version 4). And, slow, end to end on a tiny
generated delivery against its truth.
"""
import datetime as dt
import json
from dataclasses import replace

import pandas as pd
import pytest
import yaml
from chispa import assert_df_equality
from pyspark.sql import functions as F

from features import catalog
from features.calendar import add_months, month_range
from features.panel import panel_columns
from jobs import build_panel, delta_io, ingest
from jobs.config import PROJECT_ROOT, load_config
from synthetic.generator import generate
from synthetic.params import params_from_conf
from tests.conftest import TEST_SPARK_SETTINGS
from tests.features.bronze_rows import ACME, BETA, FIRST_MONTH, LAST_MONTH, NEWCO, SMALL, bronze_frames, delivery

D = dt.date
LABEL_COLUMNS = ("failure_date", "after_failure", "failure_12m", "failure_18m", "failure_24m")


def _ingest(spark, lake, batches: list[str]) -> None:
    """Write the bronze rows and ingest_log rows of `batches`, as ingestion does (replace those batches)."""
    predicate = f"IN ({', '.join(repr(b) for b in batches)})"
    for name, frame in bronze_frames(spark, delivery(), max(batches)).items():
        rows = frame.filter(F.col("_batch").isin(batches))
        if not rows.isEmpty():  # a table never delivered reads as empty
            delta_io.replace_where(rows, lake / "bronze" / name, f"_batch {predicate}", ["_batch"])
    counts = [dict(batch=b, source="test", file="test.csv", rows_read=0, rows_loaded=0, rows_quarantined=0)
              for b in batches]
    delta_io.replace_where(ingest.log_rows(spark, counts), lake / "ingest_log", f"batch {predicate}")


def _args(folder) -> list[str]:
    """Command-line arguments for a lake under `folder` and a conf extending the real one."""
    conf_file = folder / "test.yaml"
    conf_file.write_text(yaml.safe_dump({
        "extends": str(PROJECT_ROOT / "conf" / "local.yaml"),
        "paths": {"reference_dir": str(PROJECT_ROOT / "conf" / "reference")},
        # The same settings as the test session, which build_session reuses.
        "spark": {"jars_dir": str(PROJECT_ROOT / ".cache" / "jars"), "settings": TEST_SPARK_SETTINGS},
    }))
    return ["--conf", str(conf_file), "--lake-dir", str(folder / "lake")]


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    """The sequence of builds; returns the panel's versions and what the runs left."""
    folder = tmp_path_factory.mktemp("build_panel")
    lake, path = folder / "lake", folder / "lake" / "panel"
    args = _args(folder)
    _ingest(spark, lake, ["2401", "2402"])
    assert build_panel.main(args) == 0
    _ingest(spark, lake, ["2403"])  # holds a late opening effective 2024-02-27
    assert build_panel.main(args) == 0
    refresh = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").filter("version = 1").first()
    assert build_panel.main([*args, "--full"]) == 0
    assert build_panel.main(args) == 0
    unchanged_version = delta_io.current_version(spark, path)
    _ingest(spark, lake, ["2404"])
    assert build_panel.main(args) == 0
    appended = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").filter("version = 3").first()
    assert build_panel.main([*args, "--full"]) == 0
    rebuilt = delta_io.read(spark, path, version=2).cache()
    yield {
        "before": delta_io.read(spark, path, version=0),
        "refreshed": delta_io.read(spark, path, version=1),
        "refresh_predicate": refresh["operationParameters"]["predicate"],
        "rebuilt": rebuilt,
        "last_version": unchanged_version,
        "rows": {(row["siren"], row["period"]): row for row in rebuilt.collect()},
        "appended": delta_io.read(spark, path, version=3),
        "appended_predicate": appended["operationParameters"]["predicate"],
        "appended_periods": _periods_written(path, version=3),
        "appended_rebuilt": delta_io.read(spark, path, version=4),
    }
    rebuilt.unpersist()


def _periods_written(path, version: int) -> set[str]:
    """The `period` partitions whose files Delta commit `version` adds or removes."""
    log = path / "_delta_log" / f"{version:020d}.json"
    actions = [json.loads(line) for line in log.read_text().splitlines()]
    return {action[kind]["partitionValues"]["period"] for action in actions for kind in ("add", "remove")
            if kind in action}


def test_refresh_rewrites_the_changed_periods_only_and_equals_a_full_rebuild(run):
    # Labels reach 24 months back from the late opening's month (February 2024)
    assert "2022-02-01" in run["refresh_predicate"]
    assert run["refreshed"].agg(F.max("period")).first()[0] == LAST_MONTH
    assert_df_equality(run["refreshed"], run["rebuilt"], ignore_row_order=True)


def test_a_run_without_new_batch_changes_nothing(run):
    assert run["last_version"] == 2


def test_rows_known_before_a_batch_keep_their_values(run):
    # Point in time: what the panel said up to February is what it still says (labels aside:
    # they are the future by definition).
    columns = [c for c in run["before"].columns if c not in LABEL_COLUMNS]
    assert_df_equality(
        run["before"].select(columns),
        run["rebuilt"].filter(F.col("period") <= D(2024, 2, 1)).select(columns),
        ignore_row_order=True,
    )


def test_every_firm_month_of_the_perimeter_with_its_profile(run, conf):
    rows = run["rows"]
    assert run["rebuilt"].columns == panel_columns(tuple(conf["horizons"]))
    assert set(catalog.feature_names()) <= set(run["rebuilt"].columns)
    assert len(rows) == 2 * len(month_range(FIRST_MONTH, LAST_MONTH)) + len(month_range(D(2023, 6, 1), LAST_MONTH))
    assert {siren for siren, _ in rows} == {ACME, BETA, NEWCO}  # SMALL and PUBLIC are out
    beta = rows[(BETA, LAST_MONTH)]
    assert (beta["region"], beta["departement"], beta["town"], beta["naf_section"]) == ("94", "2A", "AJACCIO", "I")
    assert beta["legal_category"] == "5499" and beta["firm_age_months"] == 106
    assert rows[(ACME, D(2024, 1, 1))]["name"] == "ACME" and rows[(ACME, D(2024, 2, 1))]["name"] == "ACME SA"
    assert min(period for siren, period in rows if siren == NEWCO) == D(2023, 6, 1)  # its creation month


def test_monthly_values_follow_the_source_rules(run):
    rows = run["rows"]
    acme = {m: rows[(ACME, D(2024, m, 1))] for m in (1, 2, 3)}
    assert [acme[m]["debt_total"] for m in (1, 2, 3)] == [6000.0, 6000.0, 3000.0]  # paid on Feb 25: March
    assert [acme[m]["contributions_due"] for m in (1, 2, 3)] == [3000.0, 3000.0, 2800.0]  # known once due
    assert rows[(ACME, D(2023, 12, 1))]["payment_plan_count"] == 1  # 180 days from 2023-07-01
    assert acme[1]["payment_plan_count"] == 0 and acme[1]["ccsf_active"] == 1
    assert rows[(ACME, D(2021, 2, 1))]["headcount"] is None  # nothing published yet (2-month delay)
    beta = [rows[(BETA, month)] for month in month_range(D(2023, 11, 1), LAST_MONTH)]
    assert [r["ap_hours_authorised"] for r in beta] == [300.0, 310.0, 310.0, 0.0, 0.0]
    assert beta[2]["ap_hours_used"] == 100.0
    assert [r["paydex_days"] for r in beta] == [None, 25, 25, 40, 45]


def test_late_headcount_and_balance_sheet_do_not_leak_into_earlier_rows(run):
    # BETA publishes its headcount 6 months late; its June 2023 balance sheet, due in January
    # 2024, arrives in March.
    rows = run["rows"]
    beta = [rows[(BETA, D(2024, m, 1))] for m in (1, 2, 3)]
    assert [(r["headcount"], r["headcount_carried"]) for r in beta] == [(12, True), (11, True), (10, True)]
    assert rows[(BETA, D(2023, 12, 1))]["headcount"] == 12  # June's value: later months are unpublished
    assert [r["margin_rate"] for r in beta] == [1.0, 1.0, 2.0]
    assert rows[(BETA, D(2023, 6, 1))]["margin_rate"] is None  # the 2022 sheet is published in July 2023
    assert rows[(BETA, D(2023, 7, 1))]["margin_rate"] == 1.0


def test_failure_labels_from_a_late_opening(run):
    acme = lambda y, m: run["rows"][(ACME, D(y, m, 1))]  # noqa: E731
    # opening effective 2024-02-27, proceedings known up to March 2024
    assert [acme(2023, m)["failure_12m"] for m in (1, 2, 3, 4)] == [0, 1, 1, None]
    assert [acme(2022, m)["failure_18m"] for m in (7, 8, 9, 10)] == [0, 1, 1, None]
    assert [acme(2024, m)["after_failure"] for m in (1, 2, 3)] == [False, True, True]
    assert acme(2022, 1)["failure_date"] is None and acme(2022, 2)["failure_date"] == D(2024, 2, 27)
    assert run["rows"][(BETA, D(2022, 3, 1))]["failure_24m"] == 0
    assert run["rows"][(BETA, D(2022, 4, 1))]["failure_24m"] is None


def test_a_batch_crossing_the_threshold_rewrites_its_window_only_and_equals_a_full_rebuild(run):
    # Batch 2404: SMALL shows 12 employees for the first time, NEWCO falls to 9. The perimeter of
    # earlier months stands, so the refresh rewrites the 24 months the labels reach back, no more.
    window = D(2022, 4, 1)
    assert window.isoformat() in run["appended_predicate"]
    assert min(run["appended_periods"]) == window.isoformat()
    assert_df_equality(run["appended"], run["appended_rebuilt"], ignore_row_order=True)
    appended = {(r["siren"], r["period"]): r for r in run["appended"].collect()}
    assert [period for siren, period in appended if siren == SMALL] == [D(2024, 4, 1)]  # from when 12 is known
    assert appended[(NEWCO, D(2024, 4, 1))]["headcount"] == 9  # still in: it reached 10 in the last 10 years
    before = run["rebuilt"].select("siren", "period")
    assert_df_equality(before, run["appended"].filter(F.col("period") <= LAST_MONTH).select("siren", "period"),
                       ignore_row_order=True)


@pytest.mark.slow
def test_generated_delivery_every_firm_month_of_the_perimeter_and_its_failures(spark, tmp_path):
    params = replace(params_from_conf(load_config(), firms=60, months=27, start="2020-01", seed=3, history_months=24),
                     dirty_rate=0.0)  # a history batch, then three monthly ones
    # Small firms start growing often here, so that some cross 10 employees during the delivery.
    growth = {**params.economy["small_growth"], "onset_per_month": 0.1}
    params = replace(params, economy={**params.economy, "small_growth": growth})
    generate(params, tmp_path / "raw", tmp_path / "truth")
    args = _args(tmp_path)
    assert ingest.main([*args, "--raw-dir", str(tmp_path / "raw")]) == 0
    assert build_panel.main(args) == 0
    panel = delta_io.read(spark, tmp_path / "lake" / "panel").select("siren", "period", "failure_date").toPandas()

    truth = pd.read_csv(tmp_path / "truth" / "firms.csv", dtype=str).assign(siren=lambda t: t.siren.str.zfill(9))
    first_month, last_month = params.start, panel.period.max()
    # Drawn in the perimeter: in from its creation (or the first month). A small firm that grows
    # across 10 employees: from when that month's headcount is published (its month + its delay).
    inside = truth[truth.perimeter == "true"]
    grown = truth[(truth.perimeter_reason == "small") & truth.large_month.notna()]
    first_rows = {
        **{s: max(D.fromisoformat(c).replace(day=1), first_month) for s, c in zip(inside.siren, inside.created_date)},
        **{s: add_months(D.fromisoformat(m), int(delay))
           for s, m, delay in zip(grown.siren, grown.large_month, grown.headcount_delay)},
    }
    first_rows = {siren: first for siren, first in first_rows.items() if first <= last_month}
    assert len(grown) and panel.groupby("siren").period.min().to_dict() == first_rows
    assert len(panel) == sum(len(month_range(first, last_month)) for first in first_rows.values())
    failed = panel.dropna(subset=["failure_date"]).groupby("siren").failure_date.first()
    truth_failed = truth.set_index("siren").failure_month.dropna()
    truth_failed = truth_failed[truth_failed.index.isin(first_rows) & (pd.to_datetime(truth_failed).dt.date <= last_month)]
    assert failed.map(lambda d: d.replace(day=1).isoformat()).to_dict() == truth_failed.to_dict()
