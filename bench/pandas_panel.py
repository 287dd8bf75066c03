"""pandas versions of the panel's nine monthly aggregates, for one region's firms: a reference
for what one machine's single-threaded dataframe library does on a regional team's data.

The rules are those of features/aggregates.py and features/point_in_time.py, kept as close to them
as pandas allows; bench.bench_panel checks that both give the same row counts and column totals.
Months are counted as integers (months since 1970-01), as numpy's datetime64[M] does.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from deltalake import DeltaTable

from features.calendar import add_months, batch_month, batch_name
from features.catalog import BDF_RATIOS
from features.panel import PanelRules

# Only the columns the aggregates use are read.
COLUMNS = {
    "contributions": ["siren", "siret", "period_start", "period_months", "amount_due", "_batch"],
    "debts": ["siren", "siret", "period_code", "debt_number", "history_number", "processing_date",
              "amount_employee", "amount_employer", "_batch"],
    "headcount_company": ["siren", "period", "headcount", "_batch"],
    "headcount_establishment": ["siren", "period", "headcount", "_batch"],
    "ap_requests": ["siren", "siret", "status_date", "start_date", "end_date", "hours_authorised", "_batch"],
    "ap_consumption": ["siren", "month", "hours_used", "_batch"],
    "payment_plans": ["siren", "created_date", "duration_days", "amount", "_batch"],
    "ccsf": ["siren", "processing_date", "stage", "_batch"],
    "bdf_ratios": ["siren", "closing_date", "_batch", *BDF_RATIOS],
    "paydex": ["siren", "value_date", "days_late", "_batch"],
}


def month_number(value: dt.date | pd.Series) -> int | np.ndarray:
    """Months since 1970-01 of a date, or of each date of a datetime64 series."""
    if isinstance(value, dt.date):
        return (value.year - 1970) * 12 + value.month - 1
    return value.to_numpy().astype("datetime64[M]").astype("int64")


def read_region(bronze_dirs: dict[str, Path], sirens: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The rows of `sirens` of each bronze table (its Delta files, through the deltalake package)."""
    wanted = pc.field("siren").isin(sorted(set(sirens)))
    tables = {}
    for name, columns in COLUMNS.items():
        if (bronze_dirs[name] / "_delta_log").is_dir():
            data = DeltaTable(str(bronze_dirs[name])).to_pyarrow_dataset().to_table(columns=columns, filter=wanted)
            tables[name] = data.to_pandas(date_as_object=False)
        else:
            tables[name] = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return tables


def _known(batch: pd.Series, rule_month: np.ndarray, first_batch: int) -> np.ndarray:
    """The month a row is known (features.point_in_time.known_month)."""
    # A delivery has tens of batches: each is parsed once, by the project's rule.
    batch_months = batch.map({name: month_number(batch_month(name)) for name in batch.unique()}).to_numpy()
    return np.where(batch_months <= first_batch, rule_month, np.maximum(batch_months, rule_month))


def _explode(df: pd.DataFrame, first: np.ndarray, last: np.ndarray, column: str = "period") -> pd.DataFrame:
    """One row per row of `df` and month (or day) from `first` to `last`, in `column`."""
    first, last = np.asarray(first, dtype="int64"), np.asarray(last, dtype="int64")
    counts = np.maximum(last - first + 1, 0)
    rows = df.loc[df.index.repeat(counts)].reset_index(drop=True)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    rows[column] = np.repeat(first, counts) + offsets
    return rows


def current_months(df: pd.DataFrame, keys: Sequence[str], order: Sequence[str], start: int, end: int,
                   max_age: int | None = None, age_from: str | None = None) -> pd.DataFrame:
    """Per key and month of [start, end], the row of the highest version known by that month
    (`known`), by `order` then the other columns; with `max_age`, a version stops being current
    that many months after its `age_from` month (default: the month it became known)."""
    values = [c for c in df.columns if c not in (*keys, *order, "known")]
    ranked = df.sort_values([*keys, *order, *values, "known"], na_position="first", kind="stable").reset_index(drop=True)
    ranked["_key"] = ranked.groupby(list(keys), sort=False, dropna=False).ngroup()
    ranked["_rank"] = np.arange(len(ranked))
    # Ranks grow with the version within a key, so the best version so far is a running max of ranks.
    groups = ranked.groupby(["_key", "known"], sort=True)["_rank"].max().reset_index()
    best = groups.groupby("_key")["_rank"].cummax().to_numpy()
    next_known = groups.groupby("_key")["known"].shift(-1).to_numpy()
    valid_to = np.where(np.isnan(next_known), end, next_known - 1).astype("int64")
    version = ranked.iloc[best].reset_index(drop=True)
    if max_age is not None:
        age = version[age_from].to_numpy() if age_from else version["known"].to_numpy()
        valid_to = np.minimum(valid_to, age + max_age - 1)
    first = np.maximum(groups["known"].to_numpy(), start)
    last = np.minimum(valid_to, end)
    return _explode(version.drop(columns=["_key", "_rank", "known"]), first, last)


def _sum_by(df: pd.DataFrame, keys: list[str], columns: dict[str, str]) -> pd.DataFrame:
    """Sums of `columns` (source: result name) per `keys`, rounded to the cent as Spark's are."""
    sums = df.groupby(keys, sort=False)[list(columns)].sum().round(2)
    return sums.rename(columns=columns).reset_index()


def aggregates(tables: dict[str, pd.DataFrame], rules: PanelRules, first_batch: dt.date, start: dt.date,
               end: dt.date) -> dict[str, pd.DataFrame]:
    """The nine monthly aggregates of features.panel.monthly_aggregates, computed with pandas."""
    first, lo, hi = month_number(first_batch), month_number(start), month_number(end)
    found = {}

    c = tables["contributions"]
    c = c.loc[c.index.repeat(c["period_months"])]
    offset = c.groupby(level=0).cumcount().to_numpy()
    c = c.reset_index(drop=True).assign(month=month_number(c["period_start"]) + offset)
    c = c.assign(known=_known(c["_batch"], c["month"].to_numpy(), first), amount=c["amount_due"] / c["period_months"])
    shares = c.groupby(["siren", "siret", "month"], sort=False).agg(amount=("amount", "sum"), known=("known", "max"))
    current = current_months(shares.reset_index(), ["siren", "siret"], ["month"], lo, hi,
                             rules.contributions_carry_months, "month")
    found["contributions"] = _sum_by(current, ["siren", "period"], {"amount": "contributions_due"})

    d = tables["debts"]
    month = month_number(d["processing_date"])
    counted = np.where(d["processing_date"].dt.day <= rules.debt_cutoff_day, month, month + 1)
    states = d[["siren", "siret", "period_code", "debt_number", "history_number", "amount_employee",
                "amount_employer"]].assign(known=_known(d["_batch"], counted, first))
    current = current_months(states, ["siren", "siret", "period_code", "debt_number"], ["history_number"], lo, hi)
    current = current[(current["amount_employee"] != 0) | (current["amount_employer"] != 0)]
    found["debts"] = _sum_by(current, ["siren", "period"],
                             {"amount_employee": "debt_employee", "amount_employer": "debt_employer"})

    company, establishments = tables["headcount_company"], tables["headcount_establishment"]
    history = pd.concat([
        company[["siren", "period", "headcount", "_batch"]],
        establishments[~establishments["siren"].isin(company["siren"])]
        .groupby(["siren", "period", "_batch"], sort=False)["headcount"].sum().reset_index(),
    ], ignore_index=True)
    history["month"] = month_number(history["period"])
    first_rows = history[history["_batch"] == batch_name(first_batch)]
    delay = (first - first_rows.groupby("siren")["month"].max()).rename("delay")
    low, high = rules.headcount_delay_months
    delay = history["siren"].map(delay).fillna(low).clip(low, high).astype("int64").to_numpy()
    versions = history[["siren", "month", "headcount", "_batch"]].assign(
        known=_known(history["_batch"], history["month"].to_numpy() + delay, first))
    current = current_months(versions, ["siren"], ["month", "_batch"], lo, hi, rules.headcount_carry_months, "month")
    found["headcount"] = current.assign(headcount_carried=current["month"] < current["period"])[
        ["siren", "period", "headcount", "headcount_carried"]]

    r = tables["ap_requests"]
    r = r[r["end_date"] >= r["start_date"]]
    days = (r["end_date"] - r["start_date"]).dt.days + 1
    first_day = np.maximum(r["start_date"].to_numpy(), np.datetime64(start, "ns"))
    last_day = np.minimum(r["end_date"].to_numpy(), np.datetime64(add_months(end, 1) - dt.timedelta(days=1), "ns"))
    spells = pd.DataFrame({"siren": r["siren"].to_numpy(), "siret": r["siret"].to_numpy(),
                           "daily_hours": (r["hours_authorised"] / days).to_numpy(),
                           "known": _known(r["_batch"], month_number(r["status_date"]), first)})
    day_numbers = _explode(spells, first_day.astype("datetime64[D]").astype("int64"),
                           last_day.astype("datetime64[D]").astype("int64"), "day")
    day_numbers["period"] = day_numbers["day"].to_numpy().astype("datetime64[D]").astype("datetime64[M]").astype("int64")
    day_numbers = day_numbers[day_numbers["known"] <= day_numbers["period"]]
    daily = day_numbers.groupby(["siren", "siret", "period", "day"], sort=False)["daily_hours"].max().reset_index()
    found["ap_requests"] = _sum_by(daily, ["siren", "period"], {"daily_hours": "ap_hours_authorised"})

    u = tables["ap_consumption"]
    month = month_number(u["month"])
    u = u.assign(period=month)[(_known(u["_batch"], month, first) <= month) & (month >= lo) & (month <= hi)]
    found["ap_consumption"] = _sum_by(u, ["siren", "period"], {"hours_used": "ap_hours_used"})

    p = tables["payment_plans"]
    p = p[p["duration_days"] > 0]
    end_date = p["created_date"] + pd.to_timedelta(p["duration_days"], unit="D")
    plans = pd.DataFrame({"siren": p["siren"].to_numpy(), "amount": p["amount"].to_numpy(),
                          "duration_days": p["duration_days"].to_numpy(), "end_date": end_date.to_numpy()})
    known = _known(p["_batch"], month_number(p["created_date"]), first)
    plans = _explode(plans, np.maximum(known, lo), np.minimum(month_number(end_date), hi))
    month_end = (plans["period"].to_numpy() + 1).astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(1, "D")
    days_left = (plans["end_date"].to_numpy().astype("datetime64[D]") - month_end).astype("int64")
    plans = plans.assign(days_left=np.maximum(days_left, 0))
    plans["remaining"] = plans["amount"] * plans["days_left"] / plans["duration_days"]
    found["payment_plans"] = plans.groupby(["siren", "period"], sort=False).agg(
        payment_plan_count=("amount", "size"), payment_plan_amount=("amount", "sum"),
        payment_plan_days_left=("days_left", "max"), payment_plan_expected_remaining=("remaining", "sum"),
    ).round(2).reset_index()

    f = tables["ccsf"]
    events = pd.DataFrame({"siren": f["siren"], "processing_date": f["processing_date"], "ccsf_stage": f["stage"],
                           "known": _known(f["_batch"], month_number(f["processing_date"]), first)})
    found["ccsf"] = current_months(events, ["siren"], ["processing_date", "ccsf_stage"], lo, hi)[
        ["siren", "period", "ccsf_stage"]]

    b = tables["bdf_ratios"]
    published = month_number(b["closing_date"]) + rules.bdf_publication_months
    sheets = b[["siren", "closing_date", "_batch", *BDF_RATIOS]].assign(
        published_month=published, known=_known(b["_batch"], published, first))
    found["bdf_ratios"] = current_months(sheets, ["siren"], ["closing_date", "_batch"], lo, hi, rules.bdf_valid_months,
                                         "published_month")[["siren", "period", *BDF_RATIOS]]

    x = tables["paydex"]
    value_month = month_number(x["value_date"])
    values = pd.DataFrame({"siren": x["siren"], "value_date": x["value_date"], "_batch": x["_batch"],
                           "paydex_days": x["days_late"], "value_month": value_month,
                           "known": _known(x["_batch"], value_month, first)})
    found["paydex"] = current_months(values, ["siren"], ["value_date", "_batch"], lo, hi, rules.paydex_valid_months,
                                     "value_month")[["siren", "period", "paydex_days"]]
    return found


def totals(df: pd.DataFrame) -> dict[str, float]:
    """The figures of bench.bench_panel.spark_totals: row count and each value column's total."""
    figures = {"rows": float(len(df))}
    for column in df.columns:
        if column not in ("siren", "period", "ccsf_stage"):
            figures[column] = float(df[column].astype("float64").sum())
    return {k: round(v, 2) for k, v in figures.items()}


def timed(bronze_dirs: dict[str, Path], sirens: Sequence[str], rules: PanelRules, first_batch: dt.date,
          start: dt.date, end: dt.date) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Each aggregate's totals and the seconds of the whole computation (`read` for the reads)."""
    begin = time.monotonic()
    tables = read_region(bronze_dirs, sirens)
    seconds = {"read": round(time.monotonic() - begin, 2)}
    begin = time.monotonic()
    found = {name: totals(df) for name, df in aggregates(tables, rules, first_batch, start, end).items()}
    seconds["aggregates"] = round(time.monotonic() - begin, 2)
    return found, seconds
