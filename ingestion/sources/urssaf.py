"""The columns URSSAF account extracts share (contributions, debts, payment plans, CCSF)."""
from __future__ import annotations

from ingestion.fields import A_SIRET, parse_siret
from ingestion.reading import Field

OFFICE = Field("urssaf_office", "Urssaf_gestion")
DEPARTEMENT = Field("departement", "Dep")
SIRET = Field("siret", "Siret", parse_siret, A_SIRET, required=True)
