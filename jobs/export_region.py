"""Write the alert list of one region and month: the file a regional team opens.

    python -m jobs.export_region --region 27 [--period 2024-06] --out list.xlsx   (or list.csv)

One line per alerted firm, high before moderate and riskiest first, with French column headers;
the XLSX adds a "Légende" sheet (scoring/regional_list.py). Reads only the region's partition of
`lake/scores`. The period defaults to the region's latest; a region or a month without scores is
an error, not an empty list.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from features.calendar import parse_year_month
from features.catalog import label_of
from jobs import delta_io, preflight
from jobs.cli import base_parser, config_from_args, exit_with_status, progress
from jobs.config import Config
from jobs.lake import Lake
from common.observability import stage
from jobs.session import build_session
from scoring import drift
from scoring.regional_list import (
    HEADCOUNT_HEADER, LEGEND_HEADERS, LEGEND_SHEET, legend, list_period, model_versions, probability_header,
    regional_alert_list,
)

FORMATS = ("csv", "xlsx")
# Room for the filter button beside a header.
FILTER_BUTTON_WIDTH = 3


def region_alerts(scores: DataFrame, conf: Config, region: str, period: dt.date) -> pd.DataFrame:
    """The alert list of `region` at `period` as a pandas frame (small: one region's alerts)."""
    alerts = regional_alert_list(
        scores, region, period, conf["horizons"], conf["scoring"]["alert_horizon"]
    ).toPandas()
    # Headcount may be unknown: keep it an integer column rather than pandas' float.
    return alerts.astype({HEADCOUNT_HEADER: "Int64"})


def write_alert_list(
    alerts: pd.DataFrame,
    legend_rows: Sequence[tuple[str, str]],
    percent_columns: Sequence[str],
    out: Path,
    settings: Mapping,
    sheet_name: str,
) -> None:
    """Write the list to `out`, CSV or XLSX by its extension, as a French spreadsheet expects.

    `percent_columns` hold fractions. The CSV (conf's separator, decimal mark and encoding) writes
    them as percentages; the XLSX keeps them as numbers in a percent format, freezes the header
    row, puts filters on it, fits the column widths (capped, long cells wrapped) and adds the
    legend sheet.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    decimals = settings["percent_decimals"]
    if out.suffix.lower() == ".csv":
        percentages = {column: (alerts[column] * 100).round(decimals) for column in percent_columns}
        alerts.assign(**percentages).to_csv(out, index=False, sep=settings["csv_separator"],
                                             decimal=settings["csv_decimal"], encoding=settings["csv_encoding"])
    elif out.suffix.lower() == ".xlsx":
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            alerts.to_excel(writer, index=False, sheet_name=sheet_name)
            sheet = writer.sheets[sheet_name]
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
            percent_format = "0" + ("." + "0" * decimals if decimals else "") + "%"
            for index, header in enumerate(alerts.columns, start=1):
                if header in percent_columns:
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                        cell.number_format = percent_format
            # A percentage is stored as a fraction: size its column to what it shows, `70,0 %`.
            shown = len(f"{100:.{decimals}f} %")
            _fit_columns(sheet, settings["xlsx_max_column_width"], {column: shown for column in percent_columns})
            pd.DataFrame(legend_rows, columns=list(LEGEND_HEADERS)).to_excel(
                writer, index=False, sheet_name=LEGEND_SHEET)
            _fit_columns(writer.sheets[LEGEND_SHEET], settings["xlsx_max_column_width"])
    else:
        raise ValueError(f"unknown export format {out.suffix!r} for {out}: use one of {', '.join(FORMATS)}")


def _fit_columns(sheet: Worksheet, max_width: int, shown_widths: Mapping[str, int] | None = None) -> None:
    """Size each column to its longest cell (or to `shown_widths[header]`, what its cells show)
    and at least its header's longest word (headers wrap), capped at `max_width`; wrap the cells
    longer than that (Excel then sizes their rows)."""
    wrapped = Alignment(wrap_text=True, vertical="top")
    for header, *cells in sheet.iter_cols():
        if shown_widths and header.value in shown_widths:
            widths = [shown_widths[header.value]]
        else:
            widths = [len(str(cell.value)) for cell in cells if cell.value is not None]
        longest_word = max(len(word) for word in str(header.value).split())
        width = min(max([longest_word + FILTER_BUTTON_WIDTH, *widths]) + 2, max_width)
        sheet.column_dimensions[header.column_letter].width = width
        header.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        for cell in cells:
            if len(str(cell.value)) > width:
                cell.alignment = wrapped


def export_region(spark: SparkSession, conf: Config, scores: DataFrame, region: str, period: dt.date,
                  outs: Sequence[Path]) -> int:
    """Write the alert list of `region` at `period` to each of `outs`; return its number of lines."""
    month = period.isoformat()[:7]
    settings = conf["scoring"]
    with stage(spark, f"export region {region} {month}"):
        alerts = region_alerts(scores, conf, region, period)
        legend_rows = legend(
            region, period, model_versions(scores, region, period), conf["horizons"], settings["alert_horizon"],
            conf["training"]["thresholds"], (settings["alerts"].get("new_high_cap") or {}).get(region),
            settings["first_alert_lookback_months"], settings["reasons"]["max_themes"],
            settings["reasons"]["max_features"], drifting_labels(spark, conf, period),
        )
    for out in outs:
        write_alert_list(alerts, legend_rows, [probability_header(h) for h in conf["horizons"]], out,
                         settings["export"], sheet_name=f"Alertes {region} {month}")
    return len(alerts)


def drifting_labels(spark: SparkSession, conf: Config, period: dt.date) -> list[str] | None:
    """The French labels of the features drifting at `period` when the drift watch flagged that
    month of the live scores (most important first), else None."""
    path = Lake.from_conf(conf).monitoring
    if not delta_io.table_exists(spark, path):
        return None
    rows = [r.asDict() for r in delta_io.read(spark, path).where(
        (F.col("period") == F.lit(period)) & (F.col("source") == drift.LIVE)).collect()]
    if not any(r["kind"] == drift.MONTH and r["drifting"] for r in rows):
        return None
    return [label_of(name) for name in drift.drifting_features(rows, conf["monitoring"]["features_named"])]


def read_scores(spark: SparkSession, conf: Config) -> DataFrame:
    """The scores table (raises LookupError when there is none yet)."""
    path = Lake.from_conf(conf).scores
    if not delta_io.table_exists(spark, path):
        raise LookupError(f"no scores in {path}: run python -m jobs.score first")
    return delta_io.read(spark, path)


def run(spark: SparkSession, conf: Config, region: str, outs: Sequence[Path], period: dt.date | None = None) -> dict:
    """Write the alert list of `region` at `period` (default: the region's latest scored month) to
    each of `outs`; return the region, the month, the lines written and the files.

    Raises LookupError, naming what exists, for a region or a month without scores."""
    scores = read_scores(spark, conf)
    period = list_period(scores, region, period)
    with progress(f"export region {region}") as counts:
        counts.update(region=region, period=period.isoformat()[:7],
                      rows=export_region(spark, conf, scores, region, period, outs),
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
    preflight.check(conf)
    spark = build_session(conf, app_name="export_region")
    run(spark, conf, args.region, [args.out], parse_year_month(args.period) if args.period else None)
    return 0


def cli() -> None:
    exit_with_status(main)


if __name__ == "__main__":
    cli()
