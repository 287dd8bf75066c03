"""Partial activity (activité partielle): requests (`demande_ap.csv`) and hours used
(`consommation_ap.csv`), comma-separated and quoted."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ingestion.fields import (
    A_ISO_DATE, A_NUMBER, A_SIRET, A_WHOLE_NUMBER, parse_decimal, parse_int, parse_iso_date,
    parse_one_of, parse_siret, with_siren_from_siret,
)
from ingestion.reading import Field, Source

# 1 economic downturn, 2 supply problems, 3 disaster or bad weather, 4 restructuring, 5 other.
REASON_CODES = ("1", "2", "3", "4", "5")

REQUESTS = Source(
    name="ap_requests",
    file_pattern=r"demande_ap\.csv",
    delimiter=",",
    quoted=True,
    fields=(
        Field("request_id", "ID_DA", required=True),
        Field("siret", "ETAB_SIRET", parse_siret, A_SIRET, required=True),
        Field("company_headcount", "EFF_ENT", parse_int, A_WHOLE_NUMBER),
        Field("establishment_headcount", "EFF_ETAB", parse_int, A_WHOLE_NUMBER),
        Field("status_date", "DATE_STATUT", parse_iso_date, A_ISO_DATE, required=True),
        Field("start_date", "DATE_DEB", parse_iso_date, A_ISO_DATE, required=True),
        Field("end_date", "DATE_FIN", parse_iso_date, A_ISO_DATE, required=True),
        Field("hours_authorised", "HTA", parse_decimal, A_NUMBER, required=True),
        Field("amount_authorised", "MTA", parse_decimal, A_NUMBER),
        Field("headcount_authorised", "EFF_AUTO", parse_int, A_WHOLE_NUMBER),
        Field("reason_code", "MOTIF_RECOURS_SE", parse_one_of(REASON_CODES), "a reason code 1-5"),
        Field("perimeter", "PERIMETRE_AP"),
        Field("hours_consumed_total", "S_HEURE_CONSOM_TOT", parse_decimal, A_NUMBER),
        Field("headcount_consumed_total", "S_EFF_CONSOM_TOT", parse_int, A_WHOLE_NUMBER),
        Field("amount_consumed_total", "S_MONTANT_CONSOM_TOT", parse_decimal, A_NUMBER),
        Field("previous_use", "RECOURS_ANTERIEUR"),
    ),
    columns=(
        "request_id string, siret string, siren string, company_headcount int, "
        "establishment_headcount int, status_date date, start_date date, end_date date, "
        "hours_authorised double, amount_authorised double, headcount_authorised int, reason_code int, "
        "perimeter string, hours_consumed_total double, headcount_consumed_total int, "
        "amount_consumed_total double, previous_use string"
    ),
    derive=with_siren_from_siret,
)


def derive_consumption(df: DataFrame) -> DataFrame:
    """Bronze columns of a good hours-used row: SIREN, and the month (first day) of `MOIS`."""
    return df.transform(with_siren_from_siret).withColumn("month", F.trunc("month_date", "month"))


CONSUMPTION = Source(
    name="ap_consumption",
    file_pattern=r"consommation_ap\.csv",
    delimiter=",",
    quoted=True,
    fields=(
        Field("request_id", "ID_DA", required=True),
        Field("siret", "ETAB_SIRET", parse_siret, A_SIRET, required=True),
        Field("hours_used", "HEURES", parse_decimal, A_NUMBER, required=True),
        Field("amount", "MONTANTS", parse_decimal, A_NUMBER),
        Field("headcount", "EFFECTIFS", parse_int, A_WHOLE_NUMBER),
        Field("month_date", "MOIS", parse_iso_date, A_ISO_DATE, required=True),
    ),
    columns=(
        "request_id string, siret string, siren string, hours_used double, amount double, headcount int, "
        "month date"
    ),
    derive=derive_consumption,
)
