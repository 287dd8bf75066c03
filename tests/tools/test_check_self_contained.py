"""tools/check_self_contained.py on a throwaway git repository: what it reports and what it lets pass."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "check_self_contained.py"

# Paths that stay inside the repository (read from docs/), or are not this machine's folders.
GOOD = "\n".join([
    "See [the formats](../EXTRACTS.md) and docs/../README.md.",
    "tracking_uri: sqlite:///work/mlflow/mlflow.db",
    "Outputs go to ./work/raw and .cache/work/x; an example input is /data/raw/2406.",
]) + "\n"
# One way out per line: parent steps above the root (from docs/), the folder beside, /work.
BAD_LINES = [
    "formats: ../../EXTRACTS.md",  # self-contained: ignore
    'FIXTURES = ROOT.parent / "shared" / "fixtures"',  # self-contained: ignore
    "cd /work/main",  # self-contained: ignore
]
# Never read: a binary file, and the byte-for-byte fixtures.
SKIPPED = {
    "data.bin": "\0/work/main\n",  # self-contained: ignore
    "tests/fixtures/README.md": "../../../elsewhere\n",  # self-contained: ignore
}


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository at `root` whose index holds `files` (path -> text)."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root)], capture_output=True, text=True)


def test_a_reference_outside_is_reported_with_its_file_and_line(tmp_path):
    bad = "".join(f"{line}\n" for line in BAD_LINES)
    repo = make_repo(tmp_path, {"docs/good.md": GOOD, "docs/bad.md": bad, **SKIPPED})
    result = check(repo)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"docs/bad.md:{n}: {line}" for n, line in enumerate(BAD_LINES, start=1)]


def test_a_clean_repository_passes(tmp_path):
    result = check(make_repo(tmp_path, {"docs/good.md": GOOD, **SKIPPED}))
    assert (result.returncode, result.stdout) == (0, "")
