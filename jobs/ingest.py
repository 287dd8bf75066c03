"""Ingest monthly deliveries: every file of raw/YYMM/ into its bronze Delta table, bad rows into
quarantine, one ingest_log row per file.

Without --batch, every batch folder not yet in ingest_log is ingested (oldest first, each source's
files of all those batches in one Spark pass, conf `ingest.parallel_sources` sources at once);
--batch YYMM (re)ingests one batch. A batch's rows are replaced in one commit per table: each
bronze table, then quarantine (every source's rows at once), and ingest_log last: it is what
marks a batch done, so a crashed run is completed by the next one. A file no source recognises,
or whose header lacks a required column, is reported (the job then exits non-zero) without
stopping the others.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from features.calendar import batch_month
from ingestion.reading import (
    QUARANTINE_DDL, Source, bronze_rows, observe_file_counts, parse_lines, quarantine_rows, read_lines,
)
from ingestion.registry import SOURCES, source_of_file
from jobs import delta_io, preflight
from jobs.cli import base_parser, config_from_args, exit_with_status, progress
from jobs.config import Config
from common.observability import run_concurrently, stage
from jobs.lake import Lake
from jobs.lock import locked
from jobs.session import session_settings, writer_session

log = logging.getLogger(__name__)

LOG_DDL = (
    "batch string, source string, file string, rows_read long, rows_loaded long, rows_quarantined long, "
    "ingested_at timestamp"
)


EMPTY_FILE = "file not loaded: the file is empty (0 bytes, not even a header line): a truncated transfer?"


class IngestError(RuntimeError):
    """Some delivered files could not be loaded; the message names them and why."""


@dataclass(frozen=True)
class DeliveredFile:
    """A file of a batch folder, with the source its name belongs to (None: unknown name)."""

    batch: str
    name: str
    path: Path
    source: Source | None


def batch_folders(raw_dir: Path) -> list[str]:
    """Names of the batch folders (`YYMM`) under `raw_dir`, oldest first."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw directory not found: {raw_dir}")
    batches = []
    for child in raw_dir.iterdir():
        if child.is_dir():
            try:
                batch_month(child.name)
            except ValueError:
                log.warning("ignoring folder %s: not a batch name YYMM", child)
                continue
            batches.append(child.name)
    return sorted(batches)


def delivered_files(raw_dir: Path, batches: Sequence[str]) -> list[DeliveredFile]:
    """Every file of the given batch folders, recognised by name (hidden `.`/`_` files skipped)."""
    files = []
    for batch in batches:
        for path in sorted((raw_dir / batch).iterdir()):
            if path.is_file() and not path.name.startswith((".", "_")):
                files.append(DeliveredFile(batch, path.name, path, source_of_file(path.name)))
    return files


def done_batches(spark: SparkSession, lake: Lake) -> set[str]:
    """Batches already in ingest_log."""
    if not delta_io.table_exists(spark, lake.ingest_log):
        return set()
    return {row.batch for row in delta_io.read(spark, lake.ingest_log).select("batch").distinct().collect()}


def batches_predicate(column: str, batches: Sequence[str]) -> str:
    """SQL predicate selecting the rows of `batches`."""
    return f"{column} IN ({', '.join(delta_io.sql_literal(b) for b in batches)})"


def encoding_of(conf: Config, source: Source) -> str:
    """The encoding conf gives a source's files (`auto` unless configured)."""
    settings = conf["ingest"]
    return (settings.get("encodings") or {}).get(source.name, settings["default_encoding"])


@dataclass(frozen=True)
class SourceIngested:
    """What ingesting one source's files did: one count row per file (rows_read, rows_loaded,
    rows_quarantined, file_error), and its quarantined rows (a frame not yet read; None: none)."""

    counts: list[dict]
    quarantine: DataFrame | None


def ingest_source(
    spark: SparkSession, conf: Config, lake: Lake, source: Source, files: list[DeliveredFile], batches: list[str]
) -> SourceIngested:
    """Replace the rows of `batches` in the source's bronze table by what `files` hold (one
    commit), and return their counts and quarantined rows (for `write_quarantine`)."""
    if not files and not delta_io.table_exists(spark, lake.bronze(source.name)):
        return SourceIngested([], None)  # never delivered: nothing to replace
    # A 0-byte file has not even a header: a truncated transfer, reported like a bad header.
    empty = [f for f in files if f.path.stat().st_size == 0]
    files = [f for f in files if f not in empty]
    if files:
        lines = read_lines(spark, [str(f.path) for f in files], encoding_of(conf, source))
        parsed = parse_lines(lines, source)
        observed, counts = observe_file_counts(parsed, [(f.batch, f.name) for f in files])
        bronze = bronze_rows(observed, source)
    else:  # a rerun of batches that no longer deliver this source: their old rows go
        parsed, counts = None, lambda: {}
        bronze = spark.createDataFrame([], source.bronze_ddl)
    delta_io.replace_where(bronze, lake.bronze(source.name), batches_predicate("_batch", batches), ["_batch"])
    counted = counts()  # counted while the bronze rows were written
    # Finding the quarantined rows reads and parses the files again: only when there are some.
    quarantine = quarantine_rows(parsed, source.name) if any(c["rows_quarantined"] for c in counted.values()) else None
    nothing = {"rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}
    return SourceIngested(
        [{"batch": f.batch, "source": source.name, "file": f.name, **counted[f.batch, f.name]} for f in files]
        + [{"batch": f.batch, "source": source.name, "file": f.name, **nothing, "file_error": EMPTY_FILE}
           for f in empty],
        quarantine,
    )


def write_quarantine(spark: SparkSession, lake: Lake, ingested: dict[str, SourceIngested], batches: list[str]) -> None:
    """Replace the quarantine rows of `batches` and of the sources in `ingested` (by name) by
    theirs, in one commit: a rerun of a batch leaves none of its earlier rows behind."""
    frames = [done.quarantine for done in ingested.values() if done.quarantine is not None]
    rows = functools.reduce(DataFrame.unionByName, frames) if frames else spark.createDataFrame([], QUARANTINE_DDL)
    names = ", ".join(delta_io.sql_literal(name) for name in ingested)
    delta_io.replace_where(rows, lake.quarantine, f"source IN ({names}) AND {batches_predicate('batch', batches)}")


def log_rows(spark: SparkSession, counts: list[dict]) -> DataFrame:
    """The ingest_log rows of this run, one per file."""
    rows = [(c["batch"], c["source"], c["file"], c["rows_read"], c["rows_loaded"], c["rows_quarantined"], None)
            for c in counts]
    return spark.createDataFrame(rows, LOG_DDL).withColumn("ingested_at", F.current_timestamp())


def pending_batches(spark: SparkSession, lake: Lake, raw_dir: Path, batch: str | None = None) -> list[str]:
    """The batches to ingest: `batch` alone (it must exist), else every folder not in ingest_log."""
    available = batch_folders(raw_dir)
    if batch:
        if batch not in available:
            raise FileNotFoundError(f"batch folder {raw_dir / batch} not found")
        return [batch]
    done = done_batches(spark, lake)
    return [b for b in available if b not in done]


@locked
def run(spark: SparkSession, conf: Config, batch: str | None = None) -> dict:
    """Ingest `batch`, or every batch not yet ingested, with ingestion's Spark settings.

    Returns the batches, files and row counts, and `errors`: one line per file not loaded (the
    caller decides to fail; the other files are loaded and logged).
    """
    raw_dir, lake = conf.path("raw_dir"), Lake.from_conf(conf)
    batches = pending_batches(spark, lake, raw_dir, batch)
    if not batches:
        log.info("nothing to ingest: every batch under %s is in ingest_log", raw_dir)
        return {"batches": [], "files": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "errors": []}
    log.info("ingesting %d batch(es) %s..%s from %s", len(batches), batches[0], batches[-1], raw_dir)

    files = delivered_files(raw_dir, batches)
    errors = [f"{f.batch}/{f.name}: file name matches no known extract" for f in files if f.source is None]
    def ingest_one(source: Source) -> SourceIngested:
        mine = [f for f in files if f.source is source]
        with progress(f"ingest {source.name}") as line, stage(spark, f"ingest {source.name}"):
            done = ingest_source(spark, conf, lake, source, mine, batches)
            line.update(files=len(mine), **_totals(done.counts))
        return done

    with session_settings(spark, conf["ingest"].get("spark_settings")):
        # Sources side by side: at a batch a month, each one's fixed costs (planning, Delta
        # commits) outweigh its rows, and overlap with another's tasks.
        ingested = run_concurrently(spark, [functools.partial(ingest_one, source) for source in SOURCES],
                                    conf["ingest"]["parallel_sources"])
        counts = [c for done in ingested for c in done.counts]
        errors += [f"{c['batch']}/{c['file']}: {c['file_error']}" for c in counts if c["file_error"]]
        with progress("ingest quarantine") as line, stage(spark, "ingest quarantine"):
            write_quarantine(spark, lake, dict(zip((s.name for s in SOURCES), ingested)), batches)
            line.update(rows=sum(c["rows_quarantined"] for c in counts))
        with progress("ingest log") as line, stage(spark, "ingest log"):
            delta_io.replace_where(log_rows(spark, counts), lake.ingest_log, batches_predicate("batch", batches))
            line.update(batches=len(batches), files=len(counts))
    for error in errors:
        log.error("%s", error)
    return {"batches": batches, "files": len(counts), **_totals(counts), "errors": errors}


def _totals(counts: list[dict]) -> dict[str, int]:
    return {key: sum(c[key] for c in counts) for key in ("rows_read", "rows_loaded", "rows_quarantined")}


def raise_errors(summary: dict) -> None:
    """Raise an IngestError naming the first file not loaded, when the run left any out."""
    errors = summary["errors"]
    if errors:
        raise IngestError(f"{len(errors)} file(s) not loaded, first: {errors[0]} (fix and rerun with --batch)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ingest the new batches (or --batch) of --raw-dir into --lake-dir."""
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--batch", default=None, help="(re)ingest this batch only (YYMM)")
    args = parser.parse_args(argv)
    conf = config_from_args(args)
    preflight.check(conf)
    with writer_session(conf, "ingest") as spark:
        raise_errors(run(spark, conf, args.batch))
    return 0


def cli() -> None:
    """Console entry point."""
    exit_with_status(main)


if __name__ == "__main__":
    cli()
