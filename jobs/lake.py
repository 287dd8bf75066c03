"""The one home of every table's location: each path is built here from conf (`paths.lake_dir`,
`tables:`, `paths.exports_dir`), and no job builds one by hand."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from jobs.config import Config

TABLES = ("bronze", "quarantine", "ingest_log", "panel", "scores", "in_proceedings", "monitoring", "backtest")


@dataclass(frozen=True)
class Lake:
    """The lake of a configuration: its Delta tables and the folder of the regional lists."""

    root: Path
    names: Mapping[str, str]
    exports_dir: Path

    @classmethod
    def from_conf(cls, conf: Config) -> "Lake":
        """The lake `conf` describes; raises a KeyError naming a table missing from `tables:`."""
        names = conf["tables"]
        missing = [name for name in TABLES if name not in names]
        if missing:
            raise KeyError(f"conf `tables:` lacks {', '.join(missing)}")
        return cls(conf.path("lake_dir"), dict(names), conf.path("exports_dir"))

    def table(self, name: str) -> Path:
        """The path of the table `tables.<name>` (an absolute name is taken as it is)."""
        return self.root / self.names[name]

    def bronze(self, source: str) -> Path:
        """The bronze table of a source, by the source's name."""
        return self.table("bronze") / source

    @property
    def quarantine(self) -> Path:
        return self.table("quarantine")

    @property
    def ingest_log(self) -> Path:
        return self.table("ingest_log")

    @property
    def panel(self) -> Path:
        return self.table("panel")

    @property
    def scores(self) -> Path:
        return self.table("scores")

    @property
    def in_proceedings(self) -> Path:
        return self.table("in_proceedings")

    @property
    def monitoring(self) -> Path:
        return self.table("monitoring")

    @property
    def backtest(self) -> Path:
        return self.table("backtest")

    def exports(self, region: str, period: dt.date, formats: Sequence[str]) -> list[Path]:
        """Where a region's list of `period` goes: `<exports_dir>/<region>/<YYYY-MM>.<format>`."""
        return [self.exports_dir / region / f"{period.isoformat()[:7]}.{fmt}" for fmt in formats]

    def exported_regions(self) -> list[str]:
        """The regions that have a folder of lists."""
        root = self.exports_dir
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
