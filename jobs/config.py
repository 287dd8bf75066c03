"""Load the YAML configuration of `conf/`, with `extends` inheritance and path resolution."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONF = PROJECT_ROOT / "conf" / "local.yaml"


def _merge(base: dict, override: dict) -> dict:
    """Deep-merge `override` into a copy of `base`; a None value in `override` removes the key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    parent = data.pop("extends", None)
    if parent:
        return _merge(_read(path.parent / parent), data)
    return data


class Config(dict):
    """The merged configuration, a plain dict with helpers for paths.

    Relative paths are resolved against the folder that holds the `conf/` folder, so the same file
    works from any working directory.
    """

    def __init__(self, data: dict, root: Path):
        super().__init__(data)
        self.root = root

    def path(self, key: str) -> Path:
        """Absolute path of `paths.<key>`."""
        value = Path(self["paths"][key])
        return value if value.is_absolute() else (self.root / value).resolve()

    def with_overrides(self, **paths: str | None) -> "Config":
        """A copy with `paths.<key>` replaced where a value is given (command-line overrides)."""
        data = copy.deepcopy(dict(self))
        for key, value in paths.items():
            if value is not None:
                data["paths"][key] = str(Path(value).resolve())
        return Config(data, self.root)


def load_config(path: str | Path | None = None) -> Config:
    """Read a configuration file (default `conf/local.yaml`) and the files it extends."""
    conf_path = Path(path or DEFAULT_CONF).resolve()
    if not conf_path.exists():
        raise FileNotFoundError(f"configuration file not found: {conf_path}")
    return Config(_read(conf_path), root=conf_path.parent.parent)
