"""Download Delta Lake's jars from Maven Central once into the project's jar cache.

Spark then loads them through `spark.jars` (see jobs/session.py): no network at session start.
Each jar is checked against the SHA-1 that Maven Central publishes beside it.
"""
from __future__ import annotations

import hashlib
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from jobs.config import load_config  # noqa: E402

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


def jar_url(coordinate: str) -> tuple[str, str]:
    """URL and file name of a `group:artifact:version` jar on Maven Central."""
    group, artifact, version = coordinate.split(":")
    name = f"{artifact}-{version}.jar"
    return f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{name}", name


def fetch(coordinate: str, target_dir: Path) -> Path:
    """Download one jar into `target_dir` unless already there; verify its SHA-1."""
    url, name = jar_url(coordinate)
    target = target_dir / name
    if target.exists():
        return target
    expected = urllib.request.urlopen(url + ".sha1", timeout=60).read().decode().split()[0]
    data = urllib.request.urlopen(url, timeout=300).read()
    actual = hashlib.sha1(data).hexdigest()
    if actual != expected:
        raise RuntimeError(f"checksum mismatch for {url}: {actual} != {expected}")
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.rename(target)
    return target


def main() -> None:
    conf = load_config(sys.argv[1] if len(sys.argv) > 1 else None)
    target_dir = conf.root / conf["spark"]["jars_dir"]
    target_dir.mkdir(parents=True, exist_ok=True)
    wanted = {jar_url(c)[1] for c in conf["spark"]["delta_jars"]}
    for stale in target_dir.glob("*.jar"):
        if stale.name not in wanted:  # a version bump in conf replaces the old jars
            stale.unlink()
    for coordinate in conf["spark"]["delta_jars"]:
        print(f"jar {fetch(coordinate, target_dir)}")


if __name__ == "__main__":
    main()
