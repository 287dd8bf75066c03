"""URSSAF headcount, wide files with one column per month (`effYYYYQM`), unpivoted to one row per
establishment (or company) and month; blank cells (unknown, e.g. not yet published) are not rows."""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from ingestion.fields import (
    A_SIREN, A_SIRET, parse_int, parse_siren, parse_siret, parse_urssaf_period, with_siren_from_siret,
)
from ingestion.reading import Field, Melt, Source


def month_of_headcount_column(name: Column) -> Column:
    """The month (first day) of a headcount column `effYYYYQM`, whose suffix is a one-month URSSAF
    period code (`eff201631` is July 2016); null for any other name."""
    period = parse_urssaf_period(F.regexp_extract(name, "^eff([0-9]{6})$", 1))
    return F.when(period["months"] == 1, period["start"])


MONTHS = Melt(
    pattern="^eff[0-9]+$",
    key_name="period",
    key=month_of_headcount_column,
    key_expects="a one-month column effYYYYQM",
    value_name="headcount",
    value=parse_int,
    value_expects="a headcount (whole number)",
)

ESTABLISHMENT = Source(
    name="headcount_establishment",
    file_pattern=r"(?!.*effectif_siren).*effectif_.*",
    delimiter=";",
    quoted=False,
    fields=(
        Field("account", "compte"),
        Field("siret", "siret", parse_siret, A_SIRET, required=True),
        Field("name", "rais_soc"),
        Field("ape", "ape_ins"),
        Field("departement", "dep"),
    ),
    columns=(
        "account string, siret string, siren string, name string, ape string, departement string, "
        "period date, headcount int"
    ),
    derive=with_siren_from_siret,
    melt=MONTHS,
)

COMPANY = Source(
    name="headcount_company",
    file_pattern=r".*effectif_siren.*",
    delimiter=";",
    quoted=False,
    fields=(
        Field("siren", "siren", parse_siren, A_SIREN, required=True),
        Field("name", "rais_soc"),
    ),
    columns="siren string, name string, period date, headcount int",
    melt=MONTHS,
)
