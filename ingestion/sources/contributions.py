"""URSSAF contributions due (`sigfaible_cotisdues.csv`): amounts due and paid per account and period."""
from __future__ import annotations

from pyspark.sql import DataFrame

from ingestion.sources import urssaf
from ingestion.fields import (
    A_NUMBER, A_URSSAF_PERIOD, parse_decimal, parse_urssaf_period,
    with_period_columns, with_siren_from_siret,
)
from ingestion.reading import Field, Source


def derive(df: DataFrame) -> DataFrame:
    """Bronze columns of a good contributions row: SIREN of the SIRET, period start and length."""
    return df.transform(with_siren_from_siret).transform(with_period_columns)


SOURCE = Source(
    name="contributions",
    file_pattern=r"sigfaible_cotisdues\.csv",
    delimiter=";",
    quoted=False,
    fields=(
        *urssaf.establishment_fields("Compte"),
        Field("period_code", "periode", required=True),
        Field("period", "periode", parse_urssaf_period, A_URSSAF_PERIOD),
        # Euros here, unlike the debts' cents.
        Field("amount_paid", "enc_direct", parse_decimal, A_NUMBER),
        Field("amount_due", "cotis_due", parse_decimal, A_NUMBER, required=True),
    ),
    columns=(
        f"{urssaf.ESTABLISHMENT_COLUMNS}, "
        "period_code string, period_start date, period_months int, amount_paid double, amount_due double"
    ),
    derive=derive,
)
