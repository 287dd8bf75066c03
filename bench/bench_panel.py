"""Panel build time and peak memory, against DuckDB computing the same monthly aggregates.

    python -m bench.bench_panel --firms 1000 --months 36
    python -m bench.bench_panel --lake-dir work/lake     # an ingested lake, read only

Without --lake-dir, generates and ingests a delivery of that scale in a temporary folder. Then, in
one run: builds the whole panel as `jobs.build_panel --full` does (into a temporary folder), timed
with the Spark JVM's peak memory; computes the nine per-source monthly aggregates
(features.panel.monthly_aggregates) over every month with Spark, and the same aggregates with
DuckDB on the same bronze data (the Delta tables' current files, through the deltalake package);
checks that both engines agree on each aggregate's row count and column totals; then the same
aggregates for one region's firms (conf benchmarks.pandas_region, as the lake's panel places them;
`all` for a lake of one region's size) with Spark and with pandas (bench.pandas_panel), checked the
same way; and writes bench/results/panel.json with the times and their ratios.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Sequence

import duckdb
import psutil
from deltalake import DeltaTable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bench import pandas_panel, report
from bench.bench_ingest import peak_jvm_rss
from features.aggregates import headcount_history
from features.calendar import batch_name, month_range
from features.catalog import BDF_RATIOS
from features.panel import PanelRules, monthly_aggregates
from ingestion.registry import SOURCES
from jobs import build_panel, delta_io, ingest
from jobs.config import Config, load_config
from jobs.lake import Lake
from jobs.session import build_session
from synthetic.generator import generate
from synthetic.params import params_from_conf

log = logging.getLogger("bench.panel")
ALL_FIRMS = "all"  # conf benchmarks.pandas_region: every firm of the panel


# DuckDB versions of the rules of features/aggregates.py and features/point_in_time.py, kept as
# close to them as SQL allows: the reference the Spark timings are compared with.
def _month(expr: str) -> str:
    return f"date_trunc('month', {expr})::DATE"


def _add_months(expr: str, months: str | int) -> str:
    return f"({expr} + to_months({months}))::DATE"


def _known(rule: str, first_batch: dt.date) -> str:
    batch = "make_date(2000 + substr(_batch, 1, 2)::INT, substr(_batch, 3, 2)::INT, 1)"
    return f"CASE WHEN {batch} <= DATE '{first_batch}' THEN {rule} ELSE greatest({batch}, {rule}) END"


def _current_months(rows: str, keys: list[str], fields: list[str], start: dt.date, end: dt.date,
                    max_age: int | None = None, age_from: str | None = None) -> str:
    """Per key and month of [start, end], the fields of the highest version known (`known_month`)."""
    k = ", ".join(keys)
    age_column = "v." + (age_from or "_known")
    expiry = f"least(valid_to, {_add_months(age_column, max_age - 1)})" if max_age else "valid_to"
    return f"""
    WITH g AS (
      SELECT {k}, known_month, max(struct_pack({', '.join(f'{f} := {f}' for f in fields)}, _known := known_month)) AS v
      FROM ({rows}) GROUP BY ALL
    ), r AS (
      SELECT {k}, known_month AS valid_from,
             {_add_months(f'lead(known_month) OVER (PARTITION BY {k} ORDER BY known_month)', -1)} AS valid_to,
             max(v) OVER (PARTITION BY {k} ORDER BY known_month ROWS UNBOUNDED PRECEDING) AS v
      FROM g
    ), e AS (
      SELECT {k}, greatest(valid_from, DATE '{start}') AS first, least({expiry}, DATE '{end}') AS last, v FROM r
    )
    SELECT {k}, unnest(generate_series(first, last, INTERVAL 1 MONTH))::DATE AS period, v.* EXCLUDE (_known)
    FROM e WHERE first <= last"""


def duckdb_aggregates(rules: PanelRules, first_batch: dt.date, start: dt.date, end: dt.date) -> dict[str, str]:
    """The SQL of each source's monthly aggregate, over tables named like the bronze tables."""
    known = lambda rule: _known(rule, first_batch)  # noqa: E731
    shares = f"""
      SELECT siren, siret, month, sum(amount_due / period_months) AS amount, max(known_month) AS known_month
      FROM (SELECT *, {known('month')} AS known_month FROM (
              SELECT *, {_add_months('period_start', 'o')} AS month
              FROM (SELECT *, unnest(range(period_months)) AS o FROM contributions)))
      GROUP BY ALL"""
    debts = f"""
      SELECT siren, siret, period_code, debt_number, history_number, amount_employee, amount_employer,
             {known(f"CASE WHEN day(processing_date) <= {rules.debt_cutoff_day} THEN {_month('processing_date')} "
                    f"ELSE {_add_months(_month('processing_date'), 1)} END")} AS known_month
      FROM debts"""
    low, high = rules.headcount_delay_months
    history = """
      SELECT siren, period AS month, headcount, _batch FROM headcount_company
      UNION ALL
      SELECT siren, period, sum(headcount), _batch FROM headcount_establishment
      WHERE siren NOT IN (SELECT siren FROM headcount_company) GROUP BY ALL"""
    headcount = f"""
      WITH h AS ({history}),
      observed AS (
        SELECT siren, date_diff('month', max(month), DATE '{first_batch}') AS delay
        FROM h WHERE _batch = '{batch_name(first_batch)}' GROUP BY siren)
      SELECT h.*, {known(_add_months('month', f'least({high}, greatest({low}, coalesce(delay, {low})))'))}
             AS known_month
      FROM h LEFT JOIN observed USING (siren)"""
    bdf = f"""SELECT siren, closing_date, _batch, {', '.join(BDF_RATIOS)},
                     {_add_months(_month('closing_date'), rules.bdf_publication_months)} AS published_month,
                     {known(_add_months(_month('closing_date'), rules.bdf_publication_months))} AS known_month
              FROM bdf_ratios"""
    paydex = f"""SELECT siren, value_date, _batch, days_late AS paydex_days, {_month('value_date')} AS value_month,
                        {known(_month('value_date'))} AS known_month FROM paydex"""
    ccsf = f"""SELECT siren, processing_date, stage AS ccsf_stage, {known(_month('processing_date'))} AS known_month
               FROM ccsf"""
    plans = f"""
      SELECT siren, period, count(*) AS payment_plan_count, sum(amount) AS payment_plan_amount,
             max(days_left) AS payment_plan_days_left,
             sum(amount * days_left / duration_days) AS payment_plan_expected_remaining
      FROM (
        SELECT *, greatest(0, date_diff('day', last_day(period), end_date)) AS days_left
        FROM (
          SELECT siren, amount, duration_days, end_date,
                 unnest(generate_series(greatest(known_month, DATE '{start}'), least({_month('end_date')}, DATE '{end}'),
                                        INTERVAL 1 MONTH))::DATE AS period
          FROM (SELECT *, (created_date + duration_days)::DATE AS end_date,
                          {known(_month('created_date'))} AS known_month
                FROM payment_plans WHERE duration_days > 0)))
      GROUP BY ALL"""
    requests = f"""
      SELECT siren, period, sum(daily_hours) AS ap_hours_authorised FROM (
        SELECT siren, siret, day, {_month('day')} AS period, max(daily_hours) AS daily_hours FROM (
          SELECT siren, siret, daily_hours, known_month,
                 unnest(generate_series(first_day, last_day, INTERVAL 1 DAY))::DATE AS day
          FROM (SELECT siren, siret, hours_authorised / (date_diff('day', start_date, end_date) + 1) AS daily_hours,
                       {known(_month('status_date'))} AS known_month,
                       greatest(start_date, DATE '{start}') AS first_day, least(end_date, last_day(DATE '{end}')) AS last_day
                FROM ap_requests WHERE end_date >= start_date)
          WHERE first_day <= last_day)
        WHERE known_month <= {_month('day')} GROUP BY ALL)
      GROUP BY ALL"""
    debt_states = _current_months(debts, ["siren", "siret", "period_code", "debt_number"],
                                  ["history_number", "amount_employee", "amount_employer"], start, end)
    return {
        "contributions": f"""SELECT siren, period, sum(amount) AS contributions_due FROM ({_current_months(
            shares, ["siren", "siret"], ["month", "amount"], start, end, rules.contributions_carry_months, "month")})
            GROUP BY ALL""",
        "debts": f"""SELECT siren, period, sum(amount_employee) AS debt_employee, sum(amount_employer) AS debt_employer
                     FROM ({debt_states}) WHERE amount_employee != 0 OR amount_employer != 0 GROUP BY ALL""",
        "headcount": f"""SELECT siren, period, headcount, month < period AS headcount_carried FROM ({_current_months(
            headcount, ["siren"], ["month", "_batch", "headcount"], start, end, rules.headcount_carry_months, "month")})""",
        "ap_requests": requests,
        "ap_consumption": f"""SELECT siren, month AS period, sum(hours_used) AS ap_hours_used FROM ap_consumption
                              WHERE {known('month')} <= month AND month BETWEEN DATE '{start}' AND DATE '{end}'
                              GROUP BY ALL""",
        "payment_plans": plans,
        "ccsf": f"""SELECT siren, period, ccsf_stage FROM ({_current_months(
            ccsf, ["siren"], ["processing_date", "ccsf_stage"], start, end)})""",
        "bdf_ratios": f"""SELECT siren, period, {', '.join(BDF_RATIOS)} FROM ({_current_months(
            bdf, ["siren"], ["closing_date", "_batch", *BDF_RATIOS, "published_month"], start, end,
            rules.bdf_valid_months, "published_month")})""",
        "paydex": f"""SELECT siren, period, paydex_days FROM ({_current_months(
            paydex, ["siren"], ["value_date", "_batch", "paydex_days", "value_month"], start, end,
            rules.paydex_valid_months, "value_month")})""",
    }


def _totals_columns(columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c not in ("siren", "period", "ccsf_stage")]


def spark_totals(df: DataFrame) -> dict[str, float]:
    """Row count and the total of each value column of an aggregate (forces its whole computation)."""
    sums = [F.sum(F.col(c).cast("double")).alias(c) for c in _totals_columns(df.columns)]
    return {k: round(v or 0.0, 2) for k, v in df.agg(F.count(F.lit(1)).alias("rows"), *sums).first().asDict().items()}


def duckdb_totals(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, float]:
    """The same figures as `spark_totals`, for a DuckDB query."""
    columns = [d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description]
    sums = "".join(f", sum({c}::DOUBLE) AS {c}" for c in _totals_columns(columns))
    result = con.execute(f"SELECT count(*) AS rows{sums} FROM ({sql})")
    names = [d[0] for d in result.description]
    return {k: round(v or 0.0, 2) for k, v in zip(names, result.fetchall()[0])}


def agree(spark: dict[str, float], duck: dict[str, float]) -> bool:
    """Same rows and columns, totals equal up to the cents Spark rounds each row to."""
    tolerance = 0.01 * max(spark.get("rows", 0), 1)
    return spark.keys() == duck.keys() and spark["rows"] == duck["rows"] and all(
        abs(spark[c] - duck[c]) <= max(tolerance, 1e-9 * abs(spark[c])) for c in spark)


def timed_spark_totals(aggregates: dict[str, DataFrame]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Each aggregate's `spark_totals` and the seconds it took, by name."""
    figures, seconds = {}, {}
    for name, df in aggregates.items():
        begin = time.monotonic()
        figures[name] = spark_totals(df)
        seconds[name] = round(time.monotonic() - begin, 2)
    return figures, seconds


def disagreements(reference: str, spark: dict, other: dict) -> dict:
    """The aggregates on which Spark and the `reference` engine disagree, with both figures."""
    return {name: {"spark": spark[name], reference: other[name]} for name in spark if not agree(spark[name], other[name])}


def region_reference(spark, lake: Lake, bronze: dict[str, DataFrame], panel: Path, rules: PanelRules,
                     first_batch: dt.date, start: dt.date, end: dt.date, region: str) -> dict:
    """The monthly aggregates of one region's firms (those the `panel` table places in `region`, or
    every firm of it with `all`: a lake the size of one region), with Spark on the `bronze` tables
    restricted to them and with pandas on the lake's bronze files (bench.pandas_panel)."""
    firms = delta_io.read(spark, panel)
    if region != ALL_FIRMS:
        firms = firms.where(F.col("region") == region)
    # Cached: pandas filters its reads by the list this collects; Spark joins the cached table.
    firms = firms.select("siren").distinct().cache()
    sirens = [row.siren for row in firms.collect()]
    if not sirens:
        raise ValueError(f"no firm of region {region!r} in the panel at {panel}")
    bronze = {name: df.join(F.broadcast(firms), "siren", "left_semi") for name, df in bronze.items()}
    history = headcount_history(bronze["headcount_company"], bronze["headcount_establishment"])
    spark_figures, spark_seconds = timed_spark_totals(monthly_aggregates(bronze, history, rules, first_batch, start, end))
    firms.unpersist()
    pandas_figures, pandas_seconds = pandas_panel.timed(
        {source.name: lake.bronze(source.name) for source in SOURCES}, sirens, rules, first_batch, start, end)
    spark_total, pandas_total = sum(spark_seconds.values()), sum(pandas_seconds.values())
    found = disagreements("pandas", spark_figures, pandas_figures)
    return {
        "region": region,
        "firms": len(sirens),
        "spark_seconds": round(spark_total, 1),
        "pandas_seconds": round(pandas_total, 1),
        "pandas_read_seconds": pandas_seconds["read"],
        "spark_over_pandas": round(spark_total / pandas_total, 2),
        "rows": {name: figures["rows"] for name, figures in spark_figures.items()},
        "engines_agree": not found,
        "disagreements": found,
    }


def timed_build(spark, conf: Config, panel_dir: Path) -> dict:
    """Build the whole panel into `panel_dir` (the lake's own panel is left alone); its figures."""
    build_conf = conf.with_overrides()
    build_conf["tables"]["panel"] = str(panel_dir)  # an absolute table path: lake_dir is read only
    begin = time.monotonic()
    with peak_jvm_rss() as memory:
        built = build_panel.run(spark, build_conf, full=True)
    return {"rows": built["rows"], "seconds": round(time.monotonic() - begin, 1), "peak_jvm_rss_mb": memory["peak_mb"],
            "rates": {k: v for k, v in built.items() if k.startswith("rate_")}}


def run(spark, conf: Config, panel_dir: Path | None) -> dict:
    """Build the panel (unless `panel_dir` is None) and time Spark against DuckDB on the monthly
    aggregates, then against pandas on one region's; return the figures."""
    lake = Lake.from_conf(conf)
    rules = PanelRules.from_conf(conf["panel"], conf["horizons"])
    panel = timed_build(spark, conf, panel_dir) if panel_dir else {}

    bronze = build_panel.read_bronze(spark, lake)
    first_batch, end = build_panel.batch_bounds(spark, lake)
    history = headcount_history(bronze["headcount_company"], bronze["headcount_establishment"])
    start = build_panel.first_data_month(bronze)
    spark_figures, spark_seconds = timed_spark_totals(monthly_aggregates(bronze, history, rules, first_batch, start, end))

    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count()}")
    con.execute(f"SET memory_limit = '{conf['benchmarks']['duckdb_memory_limit']}'")
    for source in SOURCES:
        path = lake.bronze(source.name)
        if (path / "_delta_log").is_dir():
            con.register(source.name, DeltaTable(str(path)).to_pyarrow_dataset())
        else:
            columns = source.bronze_ddl.replace(" string", " VARCHAR").replace(" long", " BIGINT")
            con.execute(f"CREATE TABLE {source.name} ({columns})")
    duck_figures, duck_seconds = {}, {}
    for name, sql in duckdb_aggregates(rules, first_batch, start, end).items():
        begin = time.monotonic()
        duck_figures[name] = duckdb_totals(con, sql)
        duck_seconds[name] = round(time.monotonic() - begin, 2)
    con.close()

    found = disagreements("duckdb", spark_figures, duck_figures)
    spark_total, duck_total = sum(spark_seconds.values()), sum(duck_seconds.values())
    return {
        "panel": {**panel, "months": len(month_range(start, end))},
        "aggregates": {
            "spark_seconds": round(spark_total, 1),
            "duckdb_seconds": round(duck_total, 1),
            "spark_over_duckdb": round(spark_total / duck_total, 1),
            "per_source": {name: {"spark_seconds": spark_seconds[name], "duckdb_seconds": duck_seconds[name],
                                  "rows": spark_figures[name]["rows"]} for name in spark_seconds},
            "engines_agree": not found,
            "disagreements": found,
        },
        "region_aggregates": region_reference(spark, lake, bronze, panel_dir or lake.panel, rules, first_batch, start,
                                              end, str(conf["benchmarks"]["pandas_region"])),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=1000, help="perimeter firms of the generated delivery (the scale)")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--lake-dir", default=None, help="use this ingested lake instead of generating one")
    parser.add_argument("--conf", default=None)
    parser.add_argument("--aggregates-only", action="store_true",
                        help="time the monthly aggregates only, not a whole panel build (with --lake-dir)")
    parser.add_argument("--name", default="panel", help="results file bench/results/<name>.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    folder = Path(tempfile.mkdtemp(prefix="bench_panel_"))
    try:
        conf = load_config(args.conf)
        if args.lake_dir:
            conf, scale = conf.with_overrides(lake_dir=args.lake_dir), {"lake_dir": args.lake_dir}
        else:
            scale = {"firms": args.firms, "months": args.months}
            params = params_from_conf(conf, firms=args.firms, months=args.months)
            generate(params, folder / "raw", folder / "truth")
            conf = conf.with_overrides(raw_dir=str(folder / "raw"), lake_dir=str(folder / "lake"))
            ingest.main(["--raw-dir", str(folder / "raw"), "--lake-dir", str(folder / "lake"),
                         *(["--conf", args.conf] if args.conf else [])])
        spark = build_session(conf, app_name="bench_panel")
        figures = {**scale, "memory_gb": round(psutil.virtual_memory().total / 2**30),
                   **run(spark, conf, None if args.aggregates_only else folder / "panel")}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(args.name, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
