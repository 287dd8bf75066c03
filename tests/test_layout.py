"""Imports go one way: jobs/ may import every package; the library packages import only those
below them, and nothing from jobs/."""
import ast
from pathlib import Path

import pytest

from jobs.config import PROJECT_ROOT

# What each package may import from the project (besides itself).
ALLOWED = {
    "common": set(),
    "ingestion": {"common"},
    "features": {"common"},
    "training": {"common", "features"},
    "scoring": {"common", "features", "training"},
    "synthetic": {"features"},  # the batch-name rule of features/calendar.py, shared with ingestion's jobs
}
PROJECT_PACKAGES = {*ALLOWED, "jobs"}


def project_imports(path: Path) -> set[str]:
    """The project's top-level packages a module imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & PROJECT_PACKAGES


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_packages_below_it(package):
    wrong = {
        str(path.relative_to(PROJECT_ROOT)): sorted(project_imports(path) - ALLOWED[package] - {package})
        for path in (PROJECT_ROOT / package).rglob("*.py")
    }
    assert {module: names for module, names in wrong.items() if names} == {}
