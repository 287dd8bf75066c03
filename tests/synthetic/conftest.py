"""Generated deliveries shared by the generator's tests: tiny ones, generated once per session."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from jobs.config import load_config
from synthetic.generator import GenerationReport, generate
from synthetic.params import GeneratorParams, params_from_conf


@dataclass
class Delivery:
    """A generated delivery: batch folders under `raw`, hidden truth under `truth`."""

    params: GeneratorParams
    raw: Path
    truth: Path
    report: GenerationReport


# The delivery shape the tests describe, whatever the demo's defaults in conf: a first batch of 24
# months of history, from 2018-01 unless a test says otherwise.
SHAPE = {"start": "2018-01", "history_months": 24}


def make_delivery(folder: Path, dirty_rate: float | None = None, **overrides) -> Delivery:
    """Generate with the project's conf, SHAPE and `overrides` (firms, months, start, seed,
    history_months) into `folder`."""
    params = params_from_conf(load_config(), **{**SHAPE, **overrides})
    if dirty_rate is not None:
        params = replace(params, dirty_rate=dirty_rate)
    report = generate(params, folder / "raw", folder / "truth")
    return Delivery(params, folder / "raw", folder / "truth", report)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Delivery:
    """300 perimeter firms over 30 months from 2019-01: a history batch (24 months) and 6 monthly ones."""
    return make_delivery(tmp_path_factory.mktemp("tiny"), firms=300, months=30, start="2019-01", seed=7)


@pytest.fixture(scope="session")
def calibration(tmp_path_factory) -> Delivery:
    """A delivery large enough for rates: 2,000 perimeter firms over 48 months from 2018-01."""
    return make_delivery(tmp_path_factory.mktemp("calibration"), firms=2000, months=48, seed=11)
