"""Write a synthetic delivery: monthly batch folders of every extract, and the hidden truth.

    python -m jobs.generate_extracts --out DIR --firms N --months M --start YYYY-MM --seed S
"""
from __future__ import annotations

import logging
import shutil
from typing import Sequence

from jobs.cli import base_parser, config_from_args, exit_with_status, progress
from synthetic.generator import existing_batches, generate
from jobs.config import Config
from synthetic.params import GeneratorParams, params_from_conf

log = logging.getLogger("jobs.generate_extracts")


def run(conf: Config, params: GeneratorParams, if_missing: bool = False, overwrite: bool = False) -> dict:
    """Generate the delivery `params` describe into conf's raw_dir (truth into truth_dir); return
    the batches, files, rows and megabytes written (no batch when `if_missing` finds some).

    The one stage without a Spark session: the generator is numpy and pandas.
    """
    out_dir, truth_dir = conf.path("raw_dir"), conf.path("truth_dir")
    found = existing_batches(out_dir)
    if found and if_missing:
        log.info("%s already holds %d batches (%s..%s): nothing generated", out_dir, len(found), found[0], found[-1])
        return {"batches": [], "files": 0, "rows": 0, "megabytes": 0.0}
    if found and not overwrite:
        raise FileExistsError(f"{out_dir} already holds batches {found[0]}..{found[-1]}: "
                              f"use --overwrite to replace them or --if-missing to keep them")
    for name in found:
        shutil.rmtree(out_dir / name)

    with progress("generate_extracts") as counts:
        report = generate(params, out_dir, truth_dir)
        counts.update(batches=len(report.batches), files=len(report.files), rows=report.rows,
                      megabytes=round(report.bytes / 1e6, 1))
    log.info("batches %s..%s in %s, truth in %s", report.batches[0], report.batches[-1], out_dir, truth_dir)
    return {**counts, "batches": list(report.batches)}


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the delivery the arguments describe; 0 on success (also when --if-missing finds batches)."""
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="batch folders go here (default: conf paths.raw_dir)")
    parser.add_argument("--truth-dir", default=None, help="hidden truth (default: conf paths.truth_dir)")
    parser.add_argument("--firms", type=int, default=None, help="firms in the perimeter")
    parser.add_argument("--months", type=int, default=None, help="months to generate")
    parser.add_argument("--start", default=None, help="first month, YYYY-MM")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--history-months", type=int, default=None,
                        help="months the first batch holds (the history); then one batch a month")
    parser.add_argument("--if-missing", action="store_true",
                        help="do nothing when the output folder already holds batch folders")
    parser.add_argument("--overwrite", action="store_true", help="replace batch folders already there")
    args = parser.parse_args(argv)
    conf = config_from_args(args).with_overrides(raw_dir=args.out, truth_dir=args.truth_dir)
    params = params_from_conf(conf, firms=args.firms, months=args.months, start=args.start, seed=args.seed,
                              history_months=args.history_months)
    run(conf, params, args.if_missing, args.overwrite)
    return 0


def cli() -> None:
    """Console entry point: exit status 0, or 1 with a one-line reason."""
    exit_with_status(main)


if __name__ == "__main__":
    cli()
