"""Print the feature catalogue as the README's Markdown table, with the delays of a configuration.

    python tools/feature_table.py [--conf conf/local.yaml]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from any folder

from features.catalog import markdown_table  # noqa: E402
from jobs.config import load_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", default=None, help="configuration file (default conf/local.yaml)")
    print(markdown_table(load_config(parser.parse_args().conf)["panel"]), end="")


if __name__ == "__main__":
    main()
