"""Ingestion throughput: rows per second and peak memory per source on a generated delivery.

    python -m bench.bench_ingest --firms 2000 --months 24

Generates a synthetic delivery at the given scale in a temporary folder (or reads `--raw-dir`),
ingests every batch source by source as `jobs.ingest` does, and writes
bench/results/ingest.json: per source the files, source lines read, seconds, lines per second and
the peak resident memory of the Spark JVM while that source was ingested.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import psutil

from ingestion.registry import SOURCES
from jobs import ingest
from jobs.config import load_config
from jobs.lake import Lake
from jobs.session import build_session
from synthetic.generator import generate
from synthetic.params import params_from_conf
from bench import report

log = logging.getLogger("bench.ingest")


@contextmanager
def peak_jvm_rss(interval: float = 0.1) -> Iterator[dict]:
    """Sample the resident memory of this process's Java children; `peak_mb` is set on exit."""
    result: dict = {}
    stop = threading.Event()
    jvms = [p for p in psutil.Process().children(recursive=True) if "java" in p.name()]

    def sample() -> None:
        peak = 0
        while not stop.is_set():
            peak = max(peak, sum(p.memory_info().rss for p in jvms if p.is_running()))
            stop.wait(interval)
        result["peak_mb"] = round(peak / 2**20)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()


def run(raw_dir: Path, lake_dir: Path, conf_path: str | None) -> dict:
    """Ingest every batch of `raw_dir` into `lake_dir`, source by source; return the figures."""
    conf = load_config(conf_path).with_overrides(raw_dir=str(raw_dir), lake_dir=str(lake_dir))
    spark = build_session(conf, app_name="bench_ingest")
    for key, value in (conf["ingest"].get("spark_settings") or {}).items():  # as jobs.ingest sets them
        spark.conf.set(key, str(value))
    lake = Lake.from_conf(conf)
    batches = ingest.batch_folders(raw_dir)
    files = ingest.delivered_files(raw_dir, batches)
    figures, started = {}, time.monotonic()
    for source in SOURCES:
        mine = [f for f in files if f.source is source]
        begin = time.monotonic()
        with peak_jvm_rss() as memory:
            done = ingest.ingest_source(spark, conf, lake, source, mine, batches)
            ingest.write_quarantine(spark, lake, {source.name: done}, batches)
        counts = done.counts
        seconds = time.monotonic() - begin
        rows = sum(c["rows_read"] for c in counts)
        figures[source.name] = {
            "files": len(mine),
            "megabytes": round(sum(f.path.stat().st_size for f in mine) / 1e6, 2),
            "rows_read": rows,
            "rows_quarantined": sum(c["rows_quarantined"] for c in counts),
            "seconds": round(seconds, 1),
            "rows_per_second": round(rows / seconds),
            "peak_jvm_rss_mb": memory["peak_mb"],
        }
        log.info("%s: %s", source.name, figures[source.name])
    total_seconds = time.monotonic() - started
    total_rows = sum(f["rows_read"] for f in figures.values())
    return {
        "batches": len(batches),
        "files": len(files),
        "rows_read": total_rows,
        "seconds": round(total_seconds, 1),
        "rows_per_second": round(total_rows / total_seconds),
        "peak_jvm_rss_mb": max(f["peak_jvm_rss_mb"] for f in figures.values()),
        "sources": figures,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=2000, help="perimeter firms of the generated delivery (the scale)")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--raw-dir", default=None, help="ingest this delivery instead of generating one")
    parser.add_argument("--conf", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    folder = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        if args.raw_dir:
            raw_dir, scale = Path(args.raw_dir).resolve(), {"raw_dir": args.raw_dir}
        else:
            raw_dir, scale = folder / "raw", {"firms": args.firms, "months": args.months}
            params = params_from_conf(load_config(args.conf), firms=args.firms, months=args.months)
            generate(params, raw_dir, folder / "truth")
        figures = {**scale, **run(raw_dir, folder / "lake", args.conf)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report("ingest", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
