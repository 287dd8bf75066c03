"""URSSAF CCSF (`sigfaible_ccsf.csv`): cases before the committee that grants tax and social debt plans."""
from __future__ import annotations

from ingestion.sources import urssaf
from ingestion.fields import (
    A_URSSAF_DATE, parse_one_of, parse_urssaf_date, with_siren_from_siret,
)
from ingestion.reading import Field, Source

STAGES = ("DEBUT", "REFUS", "APPROB", "FIN", "REJ")

SOURCE = Source(
    name="ccsf",
    file_pattern=r"sigfaible_ccsf\.csv",
    delimiter=";",
    quoted=False,
    fields=(
        *urssaf.establishment_fields("Compte"),
        Field("processing_date", "Date_de_traitement", parse_urssaf_date, A_URSSAF_DATE, required=True),
        Field("stage", "Code_externe_stade", parse_one_of(STAGES), f"one of {', '.join(STAGES)}", required=True),
        Field("action", "Code_externe_action"),
    ),
    columns=(
        f"{urssaf.ESTABLISHMENT_COLUMNS}, "
        "processing_date date, stage string, action string"
    ),
    derive=with_siren_from_siret,
)
