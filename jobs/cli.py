"""What every stage's entry point shares: common arguments, logging, exit status."""
from __future__ import annotations

import argparse
import logging
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from jobs.config import Config, load_config

log = logging.getLogger("jobs")


def base_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every stage takes: --conf and the path overrides."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--conf", default=None, help="configuration file (default conf/local.yaml)")
    parser.add_argument("--raw-dir", default=None, help="folder of monthly batch folders YYMM/")
    parser.add_argument("--lake-dir", default=None, help="folder of the Delta tables")
    parser.add_argument("--mlflow-uri", default=None, help="MLflow tracking URI")
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """Load the configuration named by --conf and apply the command-line path overrides."""
    conf = load_config(args.conf).with_overrides(
        raw_dir=getattr(args, "raw_dir", None), lake_dir=getattr(args, "lake_dir", None)
    )
    if getattr(args, "mlflow_uri", None):
        conf["mlflow"]["tracking_uri"] = args.mlflow_uri
    return conf


def setup_logging(level: int = logging.INFO) -> None:
    """Log lines with time, level and logger name to stderr."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("py4j", "urllib3", "alembic", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextmanager
def progress(stage_name: str) -> Iterator[dict]:
    """Log one progress line for a stage with its seconds and the counts the block puts in the dict."""
    counts: dict = {}
    start = time.monotonic()
    yield counts
    details = ", ".join(f"{k}={v}" for k, v in counts.items())
    log.info("%s done in %.1fs%s", stage_name, time.monotonic() - start, f" ({details})" if details else "")


def exit_with_status(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> None:
    """Run a stage's `main`, exit 0 on success, non-zero with a one-line reason on failure."""
    setup_logging()
    try:
        status = main(argv)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # the one place errors become an exit status
        log.debug("stage failed", exc_info=True)
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"error: {type(error).__name__}: {reason}", file=sys.stderr)
        sys.exit(1)
    sys.exit(status or 0)
