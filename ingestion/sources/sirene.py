"""SIRENE stock files of INSEE: establishments (`StockEtablissement_utf8[_geo].csv`) and legal units
(`StockUniteLegale_utf8.csv`); read by column name, other columns ignored."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ingestion.fields import (
    A_FLAG, A_ISO_DATE, A_SIREN, A_SIRET, parse_boolean, parse_iso_date, parse_siren, parse_siret,
)
from ingestion.reading import Field, Source

ACTIVE = "A"  # etatAdministratif: A active, F closed (establishment), C ceased (legal unit)


def derive_establishments(df: DataFrame) -> DataFrame:
    """Bronze columns of a good establishment row: active flag and a name (usual name, else sign)."""
    return df.withColumns({
        "is_active": F.col("state") == ACTIVE,
        "name": F.coalesce("usual_name", "sign"),
    })


ESTABLISHMENTS = Source(
    name="sirene_establishments",
    file_pattern=r"StockEtablissement_utf8(_geo)?\.csv",
    delimiter=",",
    quoted=True,
    fields=(
        Field("siren", "siren", parse_siren, A_SIREN, required=True),
        Field("nic", "nic", required=True),
        Field("siret", "siret", parse_siret, A_SIRET, required=True),
        Field("is_head_office", "etablissementSiege", parse_boolean, A_FLAG),
        Field("commune_code", "codeCommuneEtablissement"),
        Field("town", "libelleCommuneEtablissement"),
        Field("postal_code", "codePostalEtablissement"),
        Field("naf", "activitePrincipaleEtablissement"),
        Field("state", "etatAdministratifEtablissement"),
        Field("created_date", "dateCreationEtablissement", parse_iso_date, A_ISO_DATE),
        Field("usual_name", "denominationUsuelleEtablissement"),
        Field("sign", "enseigne1Etablissement"),
    ),
    columns=(
        "siren string, nic string, siret string, is_head_office boolean, commune_code string, "
        "town string, postal_code string, naf string, is_active boolean, created_date date, name string"
    ),
    derive=derive_establishments,
)


def derive_legal_units(df: DataFrame) -> DataFrame:
    """Bronze columns of a good legal unit row: active flag and a name (company name, else the
    person's first and last names for a sole trader)."""
    person = F.concat_ws(" ", "first_name", "last_name")
    return df.withColumns({
        "is_active": F.col("state") == ACTIVE,
        "name": F.coalesce(F.col("company_name"), F.when(person != "", person)),
    })


LEGAL_UNITS = Source(
    name="sirene_legal_units",
    file_pattern=r"StockUniteLegale_utf8\.csv",
    delimiter=",",
    quoted=True,
    fields=(
        Field("siren", "siren", parse_siren, A_SIREN, required=True),
        Field("company_name", "denominationUniteLegale"),
        Field("first_name", "prenomUsuelUniteLegale"),
        Field("last_name", "nomUniteLegale"),
        Field("created_date", "dateCreationUniteLegale", parse_iso_date, A_ISO_DATE),
        Field("legal_category", "categorieJuridiqueUniteLegale"),
        Field("naf", "activitePrincipaleUniteLegale"),
        Field("state", "etatAdministratifUniteLegale"),
        Field("head_office_nic", "nicSiegeUniteLegale"),
        Field("company_category", "categorieEntreprise"),
    ),
    columns=(
        "siren string, name string, created_date date, legal_category string, naf string, "
        "is_active boolean, head_office_nic string, company_category string"
    ),
    derive=derive_legal_units,
)
