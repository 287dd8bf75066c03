"""A hand-made bronze lake for the panel's tests: five firms, batches 2401 (with the history since
January 2021), 2402, 2403 and 2404, in the bronze schemas of ingestion/sources.

- ACME (000000001, Paris): 20 employees, a debt from June 2023 partly paid in a late-February
  operation (counts for March), a payment plan, a CCSF procedure; an opening of proceedings on
  2024-02-27 delivered late, in batch 2403. Renamed in batch 2402.
- BETA (000000002, Corsica): headcount published 6 months late (July 2023 is its latest month in
  the first batch); its balance sheet closed June 2023, due in January 2024, is delivered in March;
  partial activity from November 2023 to January 2024; paydex; quarterly contributions.
- SMALL (000000003): 5 employees, out of the perimeter until batch 2404 shows 12 in March 2024.
  PUBLIC (000000004): a public body, out.
- NEWCO (000000005, Lyon): created June 2023, 10 to 12 employees, 9 in March 2024 (batch 2404).
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession

from features.calendar import month_range
from features.catalog import BDF_RATIOS
from ingestion.registry import SOURCES

D = dt.date
ACME, BETA, SMALL, PUBLIC, NEWCO = (f"00000000{i}" for i in range(1, 6))
FIRST_MONTH, LAST_MONTH = D(2021, 1, 1), D(2024, 3, 1)


def _headcount(siren: str, months: list[dt.date], value, batch: str) -> list[dict]:
    return [dict(siren=siren, period=m, headcount=value(m) if callable(value) else value, _batch=batch) for m in months]


def delivery() -> dict[str, list[dict]]:
    """The rows of every bronze table (columns not given are null)."""
    history = month_range(FIRST_MONTH, D(2023, 12, 1))
    acme_a, beta_b = ACME + "00011", BETA + "00029"
    rows: dict[str, list[dict]] = {source.name: [] for source in SOURCES}
    rows["headcount_company"] = [
        *_headcount(ACME, month_range(FIRST_MONTH, D(2023, 11, 1)), 20, "2401"),
        *_headcount(ACME, month_range(D(2023, 3, 1), D(2023, 12, 1)), lambda m: 18 if m.month == 12 else 20, "2402"),
        *_headcount(ACME, month_range(D(2023, 4, 1), D(2024, 1, 1)), lambda m: {12: 18, 1: 15}.get(m.month, 20), "2403"),
        *_headcount(BETA, month_range(FIRST_MONTH, D(2023, 7, 1)), 12, "2401"),
        *_headcount(BETA, month_range(D(2023, 3, 1), D(2023, 8, 1)), lambda m: 11 if m.month == 8 else 12, "2402"),
        *_headcount(BETA, month_range(D(2023, 4, 1), D(2023, 9, 1)), lambda m: {8: 11, 9: 10}.get(m.month, 12), "2403"),
        *_headcount(SMALL, month_range(FIRST_MONTH, D(2023, 12, 1)), 5, "2401"),
        *_headcount(SMALL, month_range(D(2023, 4, 1), D(2024, 3, 1)), lambda m: 12 if m == D(2024, 3, 1) else 5, "2404"),
        *_headcount(PUBLIC, month_range(FIRST_MONTH, D(2023, 12, 1)), 50, "2401"),
        *_headcount(NEWCO, month_range(D(2023, 6, 1), D(2023, 12, 1)), 10, "2401"),
        *_headcount(NEWCO, [D(2024, 1, 1)], 11, "2402"),
        *_headcount(NEWCO, [D(2024, 2, 1)], 12, "2403"),
        *_headcount(NEWCO, [D(2024, 3, 1)], 9, "2404"),
    ]
    rows["sirene_legal_units"] = [
        dict(siren=ACME, name="ACME", created_date=D(2010, 3, 1), legal_category="5710", naf="25.62A", _batch="2401"),
        dict(siren=ACME, name="ACME SA", created_date=D(2010, 3, 1), legal_category="5710", naf="25.62A", _batch="2402"),
        dict(siren=BETA, name="BETA", created_date=D(2015, 5, 20), legal_category="5499", naf="56.10A", _batch="2401"),
        dict(siren=SMALL, name="SMALL", created_date=D(2001, 1, 1), legal_category="5710", naf="47.11F", _batch="2401"),
        dict(siren=PUBLIC, name="PUBLIC", created_date=D(2001, 1, 1), legal_category="7210", naf="84.11Z", _batch="2401"),
        dict(siren=NEWCO, name="NEWCO", created_date=D(2023, 6, 15), legal_category="5710", naf="62.01Z", _batch="2401"),
    ]
    rows["sirene_establishments"] = [
        dict(siren=s, siret=s + "00011", is_head_office=True, commune_code=commune, town=town, _batch="2401")
        for s, commune, town in ((ACME, "75056", "PARIS"), (BETA, "2A004", "AJACCIO"), (SMALL, "75056", "PARIS"),
                                 (PUBLIC, "75056", "PARIS"), (NEWCO, "69123", "LYON"))
    ]
    rows["contributions"] = [
        *[dict(siren=ACME, siret=acme_a, period_start=m, period_months=1, amount_due=3000.0, _batch="2401")
          for m in history],
        dict(siren=ACME, siret=acme_a, period_start=D(2024, 1, 1), period_months=1, amount_due=3000.0, _batch="2402"),
        dict(siren=ACME, siret=acme_a, period_start=D(2024, 2, 1), period_months=1, amount_due=2800.0, _batch="2403"),
        *[dict(siren=BETA, siret=beta_b, period_start=m, period_months=3, amount_due=9000.0, _batch="2401")
          for m in history if m.month in (1, 4, 7, 10)],
    ]
    rows["debts"] = [
        dict(siren=ACME, siret=acme_a, period_code="2305", debt_number="1", history_number=1,
             processing_date=D(2023, 6, 10), amount_employee=2000.0, amount_employer=4000.0, _batch="2401"),
        dict(siren=ACME, siret=acme_a, period_code="2305", debt_number="1", history_number=2,
             processing_date=D(2024, 2, 25), amount_employee=1000.0, amount_employer=2000.0, _batch="2402"),
    ]
    rows["payment_plans"] = [
        dict(siren=ACME, siret=acme_a, created_date=D(2023, 7, 1), duration_days=180, amount=6000.0, _batch="2401"),
    ]
    rows["ccsf"] = [dict(siren=ACME, siret=acme_a, processing_date=D(2023, 8, 1), stage="DEBUT", _batch="2401")]
    rows["proceedings"] = [
        dict(siren=ACME, siret=acme_a, effective_date=D(2024, 2, 27), stage="ouverture_procedure",
             action="redressement", is_opening=True, _batch="2403"),
    ]
    rows["ap_requests"] = [
        dict(request_id="R1", siren=BETA, siret=beta_b, status_date=D(2023, 10, 20), start_date=D(2023, 11, 1),
             end_date=D(2024, 1, 31), hours_authorised=920.0, _batch="2401"),
    ]
    rows["ap_consumption"] = [
        dict(request_id="R1", siren=BETA, siret=beta_b, month=m, hours_used=h, _batch=b)
        for m, h, b in ((D(2023, 11, 1), 200.0, "2401"), (D(2023, 12, 1), 150.0, "2401"),
                        (D(2024, 1, 1), 100.0, "2401"))
    ]
    rows["bdf_ratios"] = [
        dict(siren=BETA, closing_date=D(2022, 12, 31), _batch="2401", **dict.fromkeys(BDF_RATIOS, 1.0)),
        dict(siren=BETA, closing_date=D(2023, 6, 30), _batch="2403", **dict.fromkeys(BDF_RATIOS, 2.0)),
    ]
    rows["paydex"] = [
        dict(siren=BETA, value_date=d, days_late=v, _batch=b)
        for d, v, b in ((D(2023, 6, 15), 15, "2401"), (D(2023, 12, 10), 25, "2401"), (D(2024, 2, 5), 40, "2402"),
                        (D(2024, 3, 6), 45, "2403"))
    ]
    return rows


def bronze_frames(spark: SparkSession, rows: dict[str, list[dict]], last_batch: str = "2403") -> dict[str, DataFrame]:
    """Each table's rows of batches up to `last_batch`, in its bronze schema (lineage filled)."""
    frames = {}
    for source in SOURCES:
        names = [column.strip().split(" ")[0] for column in source.bronze_ddl.split(",")]
        kept = [dict(row, _file="test.csv", _line=line) for line, row in enumerate(rows[source.name], start=2)
                if row["_batch"] <= last_batch]
        frames[source.name] = spark.createDataFrame([tuple(r.get(n) for n in names) for r in kept], source.bronze_ddl)
    return frames

