"""Banque de France yearly ratios (files named `bdf*`): one balance sheet per SIREN and year."""
from __future__ import annotations

from ingestion.fields import (
    A_MONTH_NAME_DATE, A_NUMBER, A_SIREN, A_WHOLE_NUMBER, parse_decimal, parse_int,
    parse_month_name_date, parse_siren,
)
from ingestion.reading import Field, Source

SOURCE = Source(
    name="bdf_ratios",
    file_pattern=r"bdf.*",
    delimiter=";",
    quoted=False,
    fields=(
        # SIRENs are written with spaces here (`000 111 222`).
        Field("siren", "D1", parse_siren, A_SIREN, required=True),
        Field("year", "ANNEE", parse_int, A_WHOLE_NUMBER, required=True),
        Field("closing_date", "ARRETE_BILAN", parse_month_name_date, A_MONTH_NAME_DATE, required=True),
        Field("name", "DENOM"),
        Field("postal_code", "CP"),
        Field("region_label", "REGION"),
        Field("sector_label", "SECTEUR"),
        Field("working_capital_weight", "POIDS_FRNG", parse_decimal, A_NUMBER),
        Field("margin_rate", "TX_MARGE", parse_decimal, A_NUMBER),
        Field("supplier_delay_days", "DELAI_FRS", parse_decimal, A_NUMBER),
        Field("tax_social_debt_weight", "POIDS_DFISC_SOC", parse_decimal, A_NUMBER),
        Field("short_term_debt_weight", "POIDS_FIN_CT", parse_decimal, A_NUMBER),
        Field("financial_costs_weight", "POIDS_FRAIS_FIN", parse_decimal, A_NUMBER),
    ),
    columns=(
        "siren string, year int, closing_date date, name string, postal_code string, region_label string, "
        "sector_label string, working_capital_weight double, margin_rate double, supplier_delay_days double, "
        "tax_social_debt_weight double, short_term_debt_weight double, financial_costs_weight double"
    ),
)
