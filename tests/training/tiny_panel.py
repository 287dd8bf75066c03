"""A tiny panel in the panel's contract (docs/TABLES.md) with a planted signal, for training tests.

Failing firms build up social debt (and pay suppliers later) in the 12 months before their failure;
the others carry little debt. `noise` carries no signal; `paydex_days` is often missing.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from features.calendar import add_months, month_range

FEATURES = ["debt_ratio", "noise", "paydex_days"]
FILL_VALUES = {"debt_ratio": 0.0, "noise": 0.0, "paydex_days": None}
THEMES = {"debt_ratio": "social_debt", "noise": "profile", "paydex_days": "payment_delays"}
START = dt.date(2019, 1, 1)

SCHEMA = (
    "siren string, period date, region string, failure_date date, after_failure boolean, "
    "failure_12m int, failure_18m int, failure_24m int, debt_employee double, debt_employer double, "
    "contributions_mean_12m double, debt_ratio double, noise double, paydex_days double"
)


def _label(index: int, failure_index: int | None, horizon: int, last_index: int) -> int | None:
    if index + horizon > last_index:
        return None
    return int(failure_index is not None and index < failure_index <= index + horizon)


def tiny_panel_rows(firms: int = 400, months: int = 36, failure_share: float = 0.3, seed: int = 0) -> list[tuple]:
    """Rows of SCHEMA: `firms` firms x `months` months from START, a share failing at a random month."""
    rng = np.random.default_rng(seed)
    periods = month_range(START, add_months(START, months - 1))
    rows = []
    for firm in range(firms):
        failure_index = int(rng.integers(6, months)) if rng.random() < failure_share else None
        contributions = float(rng.uniform(5_000, 50_000))
        for index, period in enumerate(periods):
            to_failure = failure_index - index if failure_index is not None else None
            warning = to_failure is not None and 0 < to_failure <= 12
            ratio = (13 - to_failure) / 3 + rng.normal(0, 1.5) if warning else abs(rng.normal(0, 1.0))
            ratio = max(ratio, 0.0)
            paydex = None if rng.random() < 0.3 else 10 + rng.normal(0, 5) + (15 if warning else 0)
            rows.append((
                f"{100_000_000 + firm:09d}", period, "84" if firm % 2 else "11",
                periods[failure_index] if failure_index is not None else None,
                failure_index is not None and index >= failure_index,
                *(_label(index, failure_index, h, months - 1) for h in (12, 18, 24)),
                0.6 * ratio * contributions, 0.4 * ratio * contributions, contributions,
                ratio, float(rng.normal()), paydex,
            ))
    return rows


def tiny_panel(spark, **kwargs):
    """The tiny panel as a DataFrame (see tiny_panel_rows for the arguments)."""
    return spark.createDataFrame(tiny_panel_rows(**kwargs), SCHEMA)


def tiny_settings(conf_training: dict) -> dict:
    """The project's training settings shrunk for tiny data: short windows, two small candidates."""
    settings = {key: value for key, value in conf_training.items()}
    settings.update(
        split={**conf_training["split"], "test_months": 3, "valid_months": 3, "min_positives": 3},
        search={"positive_weight": [1.0, "balanced"], "max_depth": [3], "max_iter": [5], "step_size": [0.3],
                "subsampling_rate": [1.0]},
        logistic={"max_iter": 20, "reg_param": 0.01},
        metrics={**conf_training["metrics"], "score_bins": 1000},
    )
    return settings
