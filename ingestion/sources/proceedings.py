"""URSSAF insolvency proceedings (`sigfaible_pcoll.csv`): proceeding events per establishment."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ingestion.fields import (
    A_MONTH_NAME_DATE, A_SIREN, A_SIRET, parse_month_name_date, parse_siren, parse_siret,
)
from ingestion.reading import Field, Source

ACTIONS = ("liquidation", "redressement", "sauvegarde")
_LABEL = f"^(.+)_({'|'.join(ACTIONS)})$"


def parse_proceeding_label(text: Column) -> Column:
    """`Lib_actx_stdx` (`Ouverture_procedure_liquidation`) as `struct<stage, action>`, lowercased:
    the action is the last word (liquidation, redressement or sauvegarde), the stage the rest."""
    lowered = F.lower(text)
    return F.when(
        lowered.rlike(_LABEL),
        F.struct(
            F.regexp_extract(lowered, _LABEL, 1).alias("stage"),
            F.regexp_extract(lowered, _LABEL, 2).alias("action"),
        ),
    )


def derive(df: DataFrame) -> DataFrame:
    """Bronze columns of a good proceedings row: stage, action, and whether it opens a proceeding."""
    stage = F.col("label.stage")
    return df.withColumns(
        {"stage": stage, "action": F.col("label.action"), "is_opening": stage.startswith("ouverture")}
    )


SOURCE = Source(
    name="proceedings",
    file_pattern=r"sigfaible_pcoll\.csv",
    delimiter=";",
    quoted=False,
    fields=(
        Field("siret", "Siret", parse_siret, A_SIRET, required=True),
        Field("siren", "Siren", parse_siren, A_SIREN, required=True),
        Field("effective_date", "Dt_effet", parse_month_name_date, A_MONTH_NAME_DATE, required=True),
        Field("category", "Cat_v2"),
        Field("label", "Lib_actx_stdx", parse_proceeding_label,
              f"<stage>_<action> with action one of {', '.join(ACTIONS)}", required=True),
    ),
    columns=(
        "siret string, siren string, effective_date date, category string, stage string, action string, "
        "is_opening boolean"
    ),
    derive=derive,
)
