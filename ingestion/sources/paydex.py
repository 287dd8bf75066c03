"""Supplier payment delays (files named `paydex*`): average days late per SIREN at a date."""
from __future__ import annotations

from ingestion.fields import (
    A_FRENCH_DATE, A_SIREN, A_WHOLE_NUMBER, parse_french_date, parse_int, parse_siren,
)
from ingestion.reading import Field, Source

SOURCE = Source(
    name="paydex",
    file_pattern=r"paydex.*",
    delimiter=";",
    quoted=False,
    fields=(
        Field("siren", "SIREN", parse_siren, A_SIREN, required=True),
        Field("days_late", "NB_JOURS", parse_int, A_WHOLE_NUMBER, required=True),
        Field("days_late_label", "NB_JOURS_LIB"),
        Field("value_date", "DATE_VALEUR", parse_french_date, A_FRENCH_DATE, required=True),
    ),
    columns="siren string, days_late int, days_late_label string, value_date date",
)
