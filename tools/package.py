"""Build what a cluster needs into dist/ (`make package`): the project as a wheel for
`spark-submit --py-files`, the conf files, Delta's jars for `--jars` and their Maven coordinates
for `--packages`, and print the spark-submit line of the pipeline.

    python tools/package.py [--dist DIR]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from jobs.config import PROJECT_ROOT, load_config  # noqa: E402
from tools.fetch_jars import fetch  # noqa: E402


def build(dist: Path) -> dict[str, object]:
    """Write the wheel, conf/, jars/ and packages.txt into an emptied `dist`; return their paths."""
    conf = load_config()
    shutil.rmtree(dist, ignore_errors=True)
    dist.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                    str(PROJECT_ROOT)], check=True)
    wheel = next(dist.glob("*.whl"))
    shutil.copytree(PROJECT_ROOT / "conf", dist / "conf")
    jars_dir = dist / "jars"
    jars_dir.mkdir()
    cache = conf.root / conf["spark"]["jars_dir"]
    cache.mkdir(parents=True, exist_ok=True)
    jars = [shutil.copy2(fetch(coordinate, cache), jars_dir) for coordinate in conf["spark"]["delta_jars"]]
    (dist / "packages.txt").write_text(",".join(conf["spark"]["delta_jars"]) + "\n")
    return {"wheel": wheel, "conf": dist / "conf", "jars": [Path(j) for j in jars]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=PROJECT_ROOT / "dist")
    args = parser.parse_args()
    built = build(args.dist.resolve())

    def shown(path: Path) -> str:
        return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)

    jars = ",".join(shown(jar) for jar in built["jars"])
    print(f"built {shown(built['wheel'])}, {shown(built['conf'])}/, {len(built['jars'])} jars")
    print(f"spark-submit --master spark://HOST:7077 --py-files {shown(built['wheel'])} --jars {jars} "
          f"jobs/pipeline.py --conf {shown(built['conf'])}/cluster.yaml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
