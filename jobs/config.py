"""Load the YAML configuration of `conf/`, with `extends` inheritance and path resolution."""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONF = PROJECT_ROOT / "conf" / "local.yaml"
BASE_NAME = "base.yaml"


def _merge(base: dict, override: dict, removed: set | None = None, prefix: tuple[str, ...] = ()) -> dict:
    """Deep-merge `override` into a copy of `base`; a None value in `override` removes the key
    (its path is added to `removed`)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
            if removed is not None:
                removed.add((*prefix, str(key)))
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, removed, (*prefix, str(key)))
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _load_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _read(path: Path, removed: set | None = None) -> dict:
    data = _load_yaml(path)
    parent = data.pop("extends", None)
    if parent:
        return _merge(_read(path.parent / parent, removed), data, removed)
    return data


class Config(dict):
    """The merged configuration, a plain dict with helpers for paths.

    Relative paths are resolved against the folder that holds the `conf/` folder, so the same file
    works from any working directory. `reference` is the base configuration the keys are checked
    against (jobs/preflight.py; None: unchecked) and `removed` the key paths set to null on purpose.
    """

    def __init__(self, data: dict, root: Path, reference: dict | None = None,
                 removed: frozenset[tuple[str, ...]] = frozenset()):
        super().__init__(data)
        self.root = root
        self.reference = reference
        self.removed = removed

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
        return Config(data, self.root, self.reference, self.removed)


def load_config(path: str | Path | None = None) -> Config:
    """Read a configuration file (default `conf/local.yaml`) and the files it extends; its keys
    are checked against `base.yaml` beside it (else the project's) by jobs/preflight.py."""
    conf_path = Path(path or DEFAULT_CONF).resolve()
    if not conf_path.exists():
        raise FileNotFoundError(f"configuration file not found: {conf_path}")
    removed: set = set()
    data = _read(conf_path, removed)
    base = next((p for p in (conf_path.parent / BASE_NAME, PROJECT_ROOT / "conf" / BASE_NAME) if p.exists()), None)
    reference = _read(base) if base else None
    return Config(data, root=conf_path.parent.parent, reference=reference, removed=frozenset(removed))
