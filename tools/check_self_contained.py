"""Fail when a tracked file refers to a path outside the repository.

The repository must stand alone: a clone on another machine has none of the folders that happen to
sit beside it here. This scans the text files `git ls-files` lists (binary files, and the
third-party fixtures under tests/fixtures/, which are kept byte for byte, are skipped) for:
- a relative path whose `..` steps climb above the repository root from the file's own folder;
- the folder beside the repository that used to hold the fixtures, references and extract
  formats, however the path to it is written (`shared` after parent steps, or followed by
  `fixtures`, `reference` or `EXTRACTS` with a slash or a Python path join between them);
- an absolute path into this machine's work folder (`/work` and below).
Each is printed as `file:line: text`, and the exit code is then 1 (0 when there is none). A line
holding the marker `self-contained: ignore` is not checked (this checker's own test cases).

Usage: python3 tools/check_self_contained.py [--root DIR]   (DIR: a git work tree, default: this one)
"""
from __future__ import annotations

import argparse
import posixpath
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

SKIPPED_DIRS = ("tests/fixtures/",)
IGNORE_MARKER = "self-contained: ignore"

# A run of path characters holding a parent step: `../x`, `docs/../../x`.
RELATIVE_PATH = re.compile(r"[\w.\-/]*\.\./[\w.\-/]*")
# The folder beside the repository: `shared` after parent steps, or followed by one of its
# subfolders, with a slash or a Python path join of quoted names between them.
SHARED_FOLDER = re.compile(r"""(?:\.\./)+shared\b|\bshared["']?\s*/\s*["']?(?:fixtures|reference|EXTRACTS)\b""")
# An absolute path under `/work`, not the tail of a relative one (`./work`, `.cache/work`, `~/work`).
ABSOLUTE_WORK = re.compile(r"(?<![\w.~\-])/work/")  # self-contained: ignore (the pattern itself)
# SQLAlchemy's `sqlite:///work/x.db` is the relative path `work/x.db` (an absolute one has four slashes).
SQLITE_RELATIVE = "sqlite://"


def tracked_files(root: Path) -> list[str]:
    """Paths (relative to `root`, with `/`) of the files git tracks in the work tree `root`."""
    listing = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], check=True, capture_output=True).stdout
    return [name for name in listing.decode("utf-8").split("\0") if name]


def is_binary(data: bytes) -> bool:
    """True for data git would also call binary: a NUL byte among its first 8,000."""
    return b"\0" in data[:8000]


def climbs_out(folder: str, path: str) -> bool:
    """True when relative `path`, read from `folder` (relative to the root), ends above the root."""
    resolved = posixpath.normpath(posixpath.join(folder, path))
    return resolved == ".." or resolved.startswith("../")


def outside_references(file_path: str, text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of every line of `text`, the content of `file_path`, that refers
    outside the repository."""
    folder = posixpath.dirname(file_path)
    for number, line in enumerate(text.splitlines(), start=1):
        if IGNORE_MARKER in line:
            continue
        climbing = any(
            not token.startswith("/") and climbs_out(folder, token) for token in RELATIVE_PATH.findall(line)
        )
        absolute = any(not line[:m.start()].endswith(SQLITE_RELATIVE) for m in ABSOLUTE_WORK.finditer(line))
        if climbing or absolute or SHARED_FOLDER.search(line):
            yield number, line.strip()


def violations(root: Path) -> list[str]:
    """`file:line: text` for every reference outside the repository in the files git tracks."""
    found = []
    for name in tracked_files(root):
        path = root / name
        if name.startswith(SKIPPED_DIRS) or not path.is_file():  # a deleted file stays listed until staged
            continue
        data = path.read_bytes()
        if is_binary(data):
            continue
        text = data.decode("utf-8", errors="replace")  # Latin-1 files: only ASCII paths matter
        found += [f"{name}:{number}: {line}" for number, line in outside_references(name, text)]
    return found


def main(argv: list[str] | None = None) -> int:
    """Print every reference outside the repository; 1 when there is one, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the git work tree to check (default: this repository)")
    args = parser.parse_args(argv)
    found = violations(args.root)
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} reference(s) outside the repository", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
