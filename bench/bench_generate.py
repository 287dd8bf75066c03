"""Generator throughput: rows and bytes per second and peak memory at a given scale.

    python -m bench.bench_generate --firms 20000 --months 36

Writes bench/results/generate.json, with a linear extrapolation to the national scale (350,000
perimeter firms over 60 months): the work is per firm and month, vectorised over firms.
"""
from __future__ import annotations

import argparse
import logging
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from jobs.config import load_config
from synthetic.generator import generate
from synthetic.params import params_from_conf
from bench import report

NATIONAL = {"firms": 350_000, "months": 60}


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(firms: int, months: int, start: str | None, seed: int | None, conf_path: str | None,
        out: Path | None) -> dict:
    """Generate once at the given scale into `out` (a temporary folder if None) and return the figures."""
    params = params_from_conf(load_config(conf_path), firms=firms, months=months, start=start, seed=seed)
    folder = out or Path(tempfile.mkdtemp(prefix="bench_generate_"))
    baseline = _peak_rss_mb()
    cpu_started = _cpu_seconds()
    started = time.monotonic()
    try:
        report = generate(params, folder / "raw", folder / "truth")
    finally:
        if out is None:
            shutil.rmtree(folder, ignore_errors=True)
    seconds = time.monotonic() - started
    cpu = _cpu_seconds() - cpu_started
    peak = _peak_rss_mb()
    scale = NATIONAL["firms"] * NATIONAL["months"] / (firms * months)
    history = report.history_bytes / 2**20
    firm_scale = NATIONAL["firms"] / firms
    return {
        "firms": firms,
        "months": months,
        "batches": len(report.batches),
        "rows": report.rows,
        "megabytes": round(report.bytes / 1e6, 1),
        "seconds": round(seconds, 1),
        # On a shared machine wall time includes waiting for a core; CPU time does not.
        "cpu_seconds": round(cpu, 1),
        "rows_per_second": round(report.rows / seconds),
        "megabytes_per_second": round(report.bytes / 1e6 / seconds, 2),
        "peak_rss_mb": round(peak),
        "history_mb": round(history),
        "national_extrapolation": {
            **NATIONAL,
            "rows": round(report.rows * scale),
            "gigabytes": round(report.bytes * scale / 1e9, 1),
            "minutes": round(seconds * scale / 60, 1),
            "cpu_minutes": round(cpu * scale / 60, 1),
            # Rows are streamed month by month, so memory grows with firms; only the per-firm histories
            # (headcount, distress) also grow with months.
            "peak_rss_mb": round(baseline + (peak - baseline - history) * firm_scale + history * scale),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark once, print its figures and write them to bench/results/generate.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20_000, help="perimeter firms (the scale)")
    parser.add_argument("--months", type=int, default=36, help="months (the first 24 are the history batch)")
    parser.add_argument("--start", default=None, help="first month, YYYY-MM (default: conf)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--conf", default=None)
    parser.add_argument("--out", default=None, help="keep the delivery here (default: a deleted temporary folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    figures = run(args.firms, args.months, args.start, args.seed, args.conf, Path(args.out) if args.out else None)
    report("generate", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
