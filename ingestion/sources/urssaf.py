"""The columns URSSAF account extracts share (contributions, debts, payment plans, CCSF)."""
from __future__ import annotations

from ingestion.fields import A_SIRET, parse_siret
from ingestion.reading import Field

OFFICE = Field("urssaf_office", "Urssaf_gestion")
DEPARTEMENT = Field("departement", "Dep")
SIRET = Field("siret", "Siret", parse_siret, A_SIRET, required=True)

# The columns that open the extracts of one establishment's account per row (contributions,
# payment plans, CCSF): office, département, SIRET (and its SIREN), then the account.
ESTABLISHMENT_COLUMNS = "urssaf_office string, departement string, siret string, siren string, account string"


def establishment_fields(account_column: str) -> tuple[Field, ...]:
    """The leading fields of an establishment's account extract, its account read from `account_column`."""
    return OFFICE, DEPARTEMENT, SIRET, Field("account", account_column)
