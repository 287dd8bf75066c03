"""Every extract the pipeline reads, and how a delivered file is recognised by its name."""
from __future__ import annotations

from ingestion.sources import (
    bdf, ccsf, contributions, debts, headcount, partial_activity, paydex, payment_plans, proceedings,
    sirene,
)
from ingestion.reading import Source

SOURCES: tuple[Source, ...] = (
    contributions.SOURCE,
    debts.SOURCE,
    payment_plans.SOURCE,
    ccsf.SOURCE,
    proceedings.SOURCE,
    headcount.ESTABLISHMENT,
    headcount.COMPANY,
    partial_activity.REQUESTS,
    partial_activity.CONSUMPTION,
    sirene.ESTABLISHMENTS,
    sirene.LEGAL_UNITS,
    bdf.SOURCE,
    paydex.SOURCE,
)


def source_named(name: str) -> Source:
    """The source called `name` (the bronze table's name)."""
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(f"no source named {name!r}")


def source_of_file(file_name: str) -> Source | None:
    """The source a delivered file belongs to, by its name; None for a name no source claims."""
    matches = [s for s in SOURCES if s.matches(file_name)]
    if len(matches) > 1:
        raise ValueError(f"file {file_name} matches several sources: {', '.join(s.name for s in matches)}")
    return matches[0] if matches else None
