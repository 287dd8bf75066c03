"""Each bronze schema is declared once, by its source (`Source.columns`): docs/TABLES.md says the
same, and the ingested tables are written with it (tests/jobs/test_ingest.py reads them)."""
import re

import pytest

from ingestion.reading import _columns_of
from ingestion.registry import SOURCES
from jobs.config import PROJECT_ROOT

# In the docs an untyped `siren` or `siret` is a string, as the table's header says.
UNTYPED = "string"


def documented_columns() -> dict[str, list[tuple[str, str]]]:
    """The bronze columns of docs/TABLES.md's table, by source: the first backquoted list of a row."""
    text = (PROJECT_ROOT / "docs" / "TABLES.md").read_text(encoding="utf-8")
    section = text.split("## Bronze tables", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for source, cells in re.findall(r"^\| (\w+) \| (.*) \|$", section, flags=re.MULTILINE):
        ddl = re.search(r"`([^`]*)`", cells)
        if ddl and source != "source":
            documented[source] = [(name, kind or UNTYPED) for name, _, kind in
                                  (part.strip().partition(" ") for part in ddl.group(1).split(","))]
    return documented


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_docs_give_each_bronze_table_the_columns_its_source_declares(source):
    assert documented_columns().get(source.name) == [tuple(pair) for pair in _columns_of(source.columns)]


def test_docs_list_no_source_the_registry_lacks():
    assert set(documented_columns()) == {source.name for source in SOURCES}
