"""URSSAF payment plans (`sigfaible_delais.csv`): plans granted to pay a debt over time."""
from __future__ import annotations

from ingestion.sources import urssaf
from ingestion.fields import (
    A_FRENCH_DATE, A_NUMBER, A_WHOLE_NUMBER, parse_decimal, parse_french_date, parse_int,
    with_siren_from_siret,
)
from ingestion.reading import Field, Source

SOURCE = Source(
    name="payment_plans",
    file_pattern=r"sigfaible_delais\.csv",
    delimiter=";",
    quoted=False,
    fields=(
        *urssaf.establishment_fields("Numero_compte_externe"),
        Field("case_number", "Numero_structure"),
        Field("created_date", "Date_creation", parse_french_date, A_FRENCH_DATE, required=True),
        Field("due_date", "Date_echeance", parse_french_date, A_FRENCH_DATE),
        Field("duration_days", "Duree_delai", parse_int, A_WHOLE_NUMBER, required=True),
        Field("name", "Denomination_premiere_ligne"),
        Field("indic_6m", "Indic_6M"),
        Field("creation_year", "Annee_creation", parse_int, A_WHOLE_NUMBER),
        Field("amount", "Montant_global_echeancier", parse_decimal, A_NUMBER),
        Field("stage", "Code_externe_stade"),
        Field("action", "Code_externe_action"),
    ),
    columns=(
        f"{urssaf.ESTABLISHMENT_COLUMNS}, "
        "case_number string, created_date date, due_date date, duration_days int, name string, "
        "indic_6m string, creation_year int, amount double, stage string, action string"
    ),
    derive=with_siren_from_siret,
)
