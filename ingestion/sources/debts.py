"""URSSAF debts (`sigfaible_debits.csv`): one row per operation on an unpaid period's debt."""
from __future__ import annotations

from ingestion.sources import urssaf
from ingestion.fields import (
    A_FLAG, A_NUMBER, A_SIREN, A_URSSAF_DATE, A_URSSAF_PERIOD, A_WHOLE_NUMBER, parse_boolean,
    parse_cents, parse_int, parse_siren, parse_urssaf_date, parse_urssaf_period,
    with_period_columns,
)
from ingestion.reading import Field, Source

SOURCE = Source(
    name="debts",
    file_pattern=r"sigfaible_debits\.csv",
    delimiter=";",
    quoted=False,
    fields=(
        urssaf.OFFICE,
        urssaf.DEPARTEMENT,
        Field("account", "num_cpte"),
        Field("siren", "Siren", parse_siren, A_SIREN, required=True),
        urssaf.SIRET,
        Field("registration_date", "Dt_immat", parse_urssaf_date, A_URSSAF_DATE),
        Field("account_state", "Etat_cpte", parse_int, A_WHOLE_NUMBER),
        Field("proceeding_code", "Cd_pro_col"),
        Field("period_code", "Periode", required=True),
        Field("period", "Periode", parse_urssaf_period, A_URSSAF_PERIOD),
        Field("debt_number", "Num_Ecn", required=True),
        Field("history_number", "Num_Hist_Ecn", parse_int, A_WHOLE_NUMBER, required=True),
        Field("processing_date", "Dt_trt_ecn", parse_urssaf_date, A_URSSAF_DATE, required=True),
        Field("amount_employee", "Mt_PO", parse_cents, f"{A_NUMBER} (cents)", required=True),
        Field("amount_employer", "Mt_PP", parse_cents, f"{A_NUMBER} (cents)", required=True),
        Field("operation_code", "Cd_op_ecn"),
        Field("reason_code", "Motif_ecn"),
        Field("appeal_pending", "Recours_en_cours", parse_boolean, A_FLAG),
    ),
    columns=(
        "urssaf_office string, departement string, account string, siren string, siret string, "
        "registration_date date, account_state int, proceeding_code string, period_code string, "
        "period_start date, period_months int, debt_number string, history_number int, "
        "processing_date date, amount_employee double, amount_employer double, operation_code string, "
        "reason_code string, appeal_pending boolean"
    ),
    derive=with_period_columns,
)
