"""The generator's parameters: conf `generator:` merged with the command line's overrides."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from features.calendar import add_months, parse_year_month

PERIMETER_REASONS = ("in", "small", "public_body", "admin_education", "finance")
"""Why a firm is in or out of the perimeter; index = the code held in `Population.reason`."""


@dataclass(frozen=True)
class GeneratorParams:
    """What to generate: scale, months, seed, and the calibration of conf `generator:`."""

    firms: int
    months: int
    start: dt.date
    seed: int
    history_months: int
    outside_share: float
    outside_mix: dict[str, float]
    dirty_rate: float
    headcount_window: int
    headcount_delay: tuple[int, int]
    reference_dir: Path
    reference_files: dict[str, str]
    population: dict[str, Any]
    economy: dict[str, Any]
    channels: dict[str, Any]

    @property
    def end(self) -> dt.date:
        """The first day of the last generated month."""
        return add_months(self.start, self.months - 1)

    @property
    def first_batch_index(self) -> int:
        """Index (from 0, the start month) of the month of the first batch, which holds the history."""
        return min(self.history_months, self.months) - 1


def params_from_conf(conf, **overrides) -> GeneratorParams:
    """Parameters from a loaded `Config`; keyword overrides (firms, months, start, seed,
    history_months) win when not None."""
    gen = conf["generator"]
    values = {key: gen[key] for key in ("firms", "months", "start", "seed", "history_months")}
    values.update({k: v for k, v in overrides.items() if v is not None})
    if int(values["firms"]) < 1 or int(values["months"]) < 1 or int(values["history_months"]) < 1:
        raise ValueError("--firms, --months and --history-months must be positive")
    delay = tuple(int(v) for v in gen["headcount_delay_months"])
    return GeneratorParams(
        firms=int(values["firms"]),
        months=int(values["months"]),
        start=parse_year_month(str(values["start"])),
        seed=int(values["seed"]),
        history_months=int(values["history_months"]),
        outside_share=float(gen["outside_perimeter_share"]),
        outside_mix={k: float(v) for k, v in gen["outside_perimeter_mix"].items()},
        dirty_rate=float(gen["dirty_rate"]),
        headcount_window=int(gen["headcount_window_months"]),
        headcount_delay=(delay[0], delay[1]),
        reference_dir=conf.path("reference_dir"),
        reference_files=dict(gen["reference"]),
        population=dict(gen["population"]),
        economy=dict(gen["economy"]),
        channels=dict(gen["channels"]),
    )
