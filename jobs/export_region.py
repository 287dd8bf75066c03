"""Write the alert list of one region and month: the file a regional team opens.

    python -m jobs.export_region --region 27 [--period 2024-06] --out list.xlsx   (or list.csv)

One line per alerted firm, high before moderate and riskiest first, with French column headers.
Reads only the region's partition of `lake/scores`. The period defaults to the region's latest.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from features.calendar import parse_year_month
from jobs import delta_io
from jobs.cli import base_parser, config_from_args, exit_with_status, progress
from jobs.config import Config
from jobs.lake import Lake
from common.observability import stage
from jobs.session import build_session
from scoring.alerts import HEADCOUNT_HEADER, regional_alert_list

FORMATS = ("csv", "xlsx")
MAX_COLUMN_WIDTH = 80


def region_alerts(spark: SparkSession, conf: Config, region: str, period: dt.date) -> pd.DataFrame:
    """The alert list of `region` at `period` as a pandas frame (small: one region's alerts)."""
    scores = delta_io.read(spark, Lake.from_conf(conf).scores)
    alerts = regional_alert_list(
        scores, region, period, conf["horizons"], conf["scoring"]["alert_horizon"]
    ).toPandas()
    # Headcount may be unknown: keep it an integer column rather than pandas' float.
    return alerts.astype({HEADCOUNT_HEADER: "Int64"})


def write_alert_list(alerts: pd.DataFrame, out: Path, settings: Mapping, sheet_name: str) -> None:
    """Write the list to `out`, CSV or XLSX by its extension, as a French spreadsheet expects."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        alerts.to_csv(out, index=False, sep=settings["csv_separator"], decimal=settings["csv_decimal"],
                      encoding=settings["csv_encoding"])
    elif out.suffix.lower() == ".xlsx":
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            alerts.to_excel(writer, index=False, sheet_name=sheet_name)
            sheet = writer.sheets[sheet_name]
            sheet.freeze_panes = "A2"
            for column in sheet.columns:
                width = max(len(str(cell.value or "")) for cell in column)
                sheet.column_dimensions[column[0].column_letter].width = min(width + 2, MAX_COLUMN_WIDTH)
    else:
        raise ValueError(f"unknown export format {out.suffix!r} for {out}: use one of {', '.join(FORMATS)}")


def export_region(spark: SparkSession, conf: Config, region: str, period: dt.date, outs: Sequence[Path]) -> int:
    """Write the alert list of `region` at `period` to each of `outs`; return its number of lines."""
    month = period.isoformat()[:7]
    with stage(spark, f"export region {region} {month}"):
        alerts = region_alerts(spark, conf, region, period)
    for out in outs:
        write_alert_list(alerts, out, conf["scoring"]["export"], sheet_name=f"Alertes {region} {month}")
    return len(alerts)


def latest_scored_period(spark: SparkSession, conf: Config, region: str) -> dt.date:
    """The latest month scored in `region` (raises LookupError when there is none)."""
    path = Lake.from_conf(conf).scores
    latest = None
    if delta_io.table_exists(spark, path):
        latest = delta_io.read(spark, path).where(F.col("region") == region).agg(F.max("period")).first()[0]
    if latest is None:
        raise LookupError(f"no scores for region {region} in {path}: run python -m jobs.score first")
    return latest


def run(spark: SparkSession, conf: Config, region: str, outs: Sequence[Path], period: dt.date | None = None) -> dict:
    """Write the alert list of `region` at `period` (default: the region's latest scored month) to
    each of `outs`; return the region, the month, the lines written and the files."""
    period = period or latest_scored_period(spark, conf, region)
    with progress(f"export region {region}") as counts:
        counts.update(region=region, period=period.isoformat()[:7], rows=export_region(spark, conf, region, period, outs),
                      out=",".join(str(out) for out in outs))
    return dict(counts)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: write one region's list to --out."""
    parser = base_parser("Write the alert list of one region and month (CSV or XLSX, French headers).")
    parser.add_argument("--region", required=True, help="INSEE region code, e.g. 27")
    parser.add_argument("--period", default=None, help="month, YYYY-MM (default: the region's latest scored)")
    parser.add_argument("--out", required=True, type=Path, help="output file, .csv or .xlsx")
    args = parser.parse_args(argv)
    if args.out.suffix.lower().lstrip(".") not in FORMATS:
        raise ValueError(f"--out must end with .csv or .xlsx, got {args.out}")
    conf = config_from_args(args)
    spark = build_session(conf, app_name="export_region")
    run(spark, conf, args.region, [args.out], parse_year_month(args.period) if args.period else None)
    return 0


def cli() -> None:
    exit_with_status(main)


if __name__ == "__main__":
    cli()
