"""The figures of a training run (matplotlib, Agg backend): curves, calibration, importances, lead time.

Each function takes small, already aggregated data and returns a Figure for `mlflow.log_figure`.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib

matplotlib.use("Agg")  # no display: figures are written as run artifacts
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from training.metrics import Curve  # noqa: E402


def _figure(title: str) -> tuple[Figure, object]:
    figure = Figure(figsize=(6, 4.5), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    return figure, axes


def pr_curves(curves: Mapping[str, Curve], title: str) -> Figure:
    """Precision against recall, one line per named model (e.g. the GBT and its baselines)."""
    figure, axes = _figure(title)
    for name, c in curves.items():
        axes.step(np.concatenate([[0.0], c.recall]), np.concatenate([[c.precision[0]], c.precision]), where="pre", label=name)
    base_rate = next(iter(curves.values()))
    axes.axhline(base_rate.positives / base_rate.rows, color="grey", linestyle=":", label="base rate")
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend()
    return figure


def roc_curves(curves: Mapping[str, Curve], title: str) -> Figure:
    """True against false positive rate, one line per named model."""
    figure, axes = _figure(title)
    for name, c in curves.items():
        axes.plot(np.concatenate([[0.0], c.false_positive_rate]), np.concatenate([[0.0], c.recall]), label=name)
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend()
    return figure


def calibration(table: pd.DataFrame, title: str) -> Figure:
    """Observed positive rate against mean score per score bucket (see metrics.calibration_table)."""
    figure, axes = _figure(title)
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":")
    axes.plot(table["mean_score"], table["observed_rate"], marker="o")
    axes.set(xlabel="mean score", ylabel="observed failure rate", xlim=(0, 1), ylim=(0, 1.02))
    return figure


def importances(values: pd.Series, title: str, top: int = 30) -> Figure:
    """Horizontal bars of the `top` largest importances (by feature or by theme)."""
    shown = values.sort_values().tail(top)
    figure = Figure(figsize=(7, 0.25 * len(shown) + 1.5), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.barh(shown.index.astype(str), shown.to_numpy())
    axes.set_xlabel("importance")
    return figure


def lead_time(leads: pd.DataFrame, title: str) -> Figure:
    """Histogram of months between first flag and failure, one series per `lead_<threshold>` column."""
    figure, axes = _figure(title)
    columns = [c for c in leads.columns if c.startswith("lead_")]
    longest = int(np.nanmax(leads[columns].to_numpy(dtype=float), initial=0))
    edges = np.arange(-0.5, longest + 1.5)
    for column in columns:
        flagged = leads[column].dropna()
        axes.hist(flagged, bins=edges, alpha=0.6, label=f"{column[5:]} ({len(flagged)}/{len(leads)} firms flagged)")
    axes.set(xlabel="months between first flag and failure", ylabel="failing firms")
    axes.legend()
    return figure


def precision_by_month(precision: pd.DataFrame, horizon: int) -> Figure:
    """Share of each month's high alerts followed by a failure within `horizon` months (bars: the
    alerts whose horizon is observed)."""
    figure, axes = _figure(f"High alerts followed by a failure within {horizon} months")
    months = pd.to_datetime(precision["period"])
    axes.plot(months, precision["precision_high"], marker="o", label="precision")
    axes.set(ylabel="precision", ylim=(0, 1.02))
    counts = axes.twinx()
    counts.bar(months, precision["high_alerts_observed"], width=20, alpha=0.25, color="grey")
    counts.set_ylabel("high alerts observed")
    figure.autofmt_xdate()
    return figure


def alerts_by_month_and_region(new_high: pd.DataFrame, top: int = 12) -> Figure:
    """New high alerts per month, one line per region (the `top` regions with most)."""
    figure, axes = _figure("New high alerts per month and region")
    table = new_high.pivot_table(index="period", columns="region", values="new_high_alerts", fill_value=0)
    shown = table[table.sum().sort_values(ascending=False).index[:top]]
    for region in shown.columns:
        axes.plot(pd.to_datetime(shown.index), shown[region], marker=".", label=str(region))
    axes.set(ylabel="new high alerts")
    if len(shown.columns):
        axes.legend(title="region", ncols=2, fontsize="small")
    figure.autofmt_xdate()
    return figure
