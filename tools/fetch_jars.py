"""Download Delta Lake's jars from Maven Central once into the project's jar cache, and install
them into the Spark of `.venv` (its `pyspark/jars` folder).

Both `python -m jobs.<stage>` and the venv's `spark-submit jobs/<stage>.py` then find Delta on the
classpath with no network at start. Each jar is checked against the SHA-1 Maven Central publishes.
"""
from __future__ import annotations

import hashlib
import shutil
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


def install(jars: list[Path], spark_jars_dir: Path, managed: set[str]) -> None:
    """Copy `jars` into Spark's jars folder, removing other versions of the managed artifacts."""
    for jar in spark_jars_dir.glob("delta-*.jar"):
        if jar.name not in managed:
            jar.unlink()
    for jar in jars:
        target = spark_jars_dir / jar.name
        if not target.exists():
            shutil.copyfile(jar, target)


def main() -> None:
    from jobs.session import spark_jars_dir

    conf = load_config(sys.argv[1] if len(sys.argv) > 1 else None)
    cache_dir = conf.root / conf["spark"]["jars_dir"]
    cache_dir.mkdir(parents=True, exist_ok=True)
    wanted = {jar_url(c)[1] for c in conf["spark"]["delta_jars"]}
    for stale in cache_dir.glob("*.jar"):
        if stale.name not in wanted:  # a version bump in conf replaces the old jars
            stale.unlink()
    jars = [fetch(coordinate, cache_dir) for coordinate in conf["spark"]["delta_jars"]]
    install(jars, spark_jars_dir(), wanted)
    print(f"Delta jars cached in {cache_dir} and installed in {spark_jars_dir()}")


if __name__ == "__main__":
    main()
