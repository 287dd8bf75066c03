"""Benchmarks: each prints its figures and writes them to bench/results/<name>.json."""
from __future__ import annotations

import json
import os
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def report(name: str, figures: dict) -> Path:
    """Print `figures` with the machine's cores and load, and write them to results/<name>.json."""
    figures = {**figures, "cores": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 1)}
    text = json.dumps(figures, indent=2, default=str)
    print(text)
    path = RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path
