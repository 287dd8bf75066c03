"""The panel's firms and their profile: perimeter, month spine, location, sector, legal category.

Perimeter membership is decided on all the data at hand, as the reference does; the profile of a
row (name, head office, sector) is the SIRENE version known at its period.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.calendar import explode_months, month_start_col
from features.point_in_time import known_month, version_intervals

# The first batch's SIRENE stock describes each firm since its creation.
SINCE_EVER = dt.date(1900, 1, 1)


def departement_col(commune_code: Column) -> Column:
    """Spark column: the département of a commune code (3 characters overseas `97x`, else 2; `2A`/`2B` in Corsica)."""
    return F.when(commune_code.startswith("97"), commune_code.substr(1, 3)).otherwise(commune_code.substr(1, 2))


def naf_division_col(naf: Column) -> Column:
    """Spark column: the 2-digit NAF division of a code `NN.NNL`, as an integer."""
    return naf.substr(1, 2).cast("int")


def latest_legal_units(legal_units: DataFrame) -> DataFrame:
    """The latest delivered version of each legal unit: `siren, created_date, legal_category, naf`."""
    latest = F.max_by(F.struct("created_date", "legal_category", "naf"), F.col("_batch"))
    return legal_units.groupBy("siren").agg(latest.alias("unit")).select("siren", "unit.*")


def perimeter_firms(
    headcount_history: DataFrame,
    legal_units: DataFrame,
    first_month: dt.date,
    end: dt.date,
    min_headcount: int,
    lookback_years: int,
    excluded_legal_category_prefixes: Sequence[str],
    excluded_naf_divisions: Sequence[str],
) -> DataFrame:
    """The firms of the perimeter and their first panel month: `siren, first_period`, one per firm.

    A firm is in when it had at least `min_headcount` employees in some month of the
    `lookback_years` years up to `end` (latest delivered value of each month), unless its SIRENE
    legal category (public bodies: 4xxx, 7xxx) or NAF division (administration, education,
    finance) is excluded; a firm whose legal unit is unknown (e.g. its row was quarantined) stays
    in. A firm's first period is its creation month, or `first_month` (the first month of data)
    when later.
    """
    recent = F.col("month") > F.add_months(F.lit(end), -12 * lookback_years)
    large = (
        headcount_history.filter(recent & (F.col("month") <= F.lit(end)))
        .groupBy("siren", "month")
        .agg(F.max_by("headcount", "_batch").alias("headcount"))
        .groupBy("siren")
        .agg(F.max("headcount").alias("max_headcount"))
        .filter(F.col("max_headcount") >= min_headcount)
    )
    units = latest_legal_units(legal_units)
    excluded = F.col("naf").substr(1, 2).isin(list(excluded_naf_divisions))
    for prefix in excluded_legal_category_prefixes:
        excluded = excluded | F.col("legal_category").startswith(prefix)
    first_period = F.greatest(F.lit(first_month), month_start_col(F.col("created_date")))
    return (
        large.join(units, "siren", "left")
        .filter(~F.coalesce(excluded, F.lit(False)))
        .select("siren", first_period.alias("first_period"))
    )


def firm_months(firms: DataFrame, start: dt.date, end: dt.date) -> DataFrame:
    """The month spine: `siren, period` for every month of [`start`, `end`] from each firm's `first_period`."""
    return firms.select("siren", "first_period", F.lit(None).cast("date").alias("last")).transform(
        explode_months, "first_period", "last", start, end
    )


def legal_unit_monthly(
    legal_units: DataFrame, naf_sections: DataFrame, first_batch_month: dt.date, start: dt.date, end: dt.date
) -> DataFrame:
    """The SIRENE legal unit known at each month: `siren, period, name, legal_category, naf, naf_section, created_date`.

    `naf_sections` has `section, first_division, last_division` (conf/reference/naf_sections.csv).
    """
    versions = legal_units.select(
        "siren", "_batch", "name", "legal_category", "naf", "created_date",
        known_month(F.col("_batch"), F.lit(SINCE_EVER), first_batch_month).alias("known_month"),
    )
    division = naf_division_col(F.col("naf"))
    sections = F.broadcast(
        naf_sections.select(F.col("section").alias("naf_section"), "first_division", "last_division")
    )
    return (
        version_intervals(versions, ["siren"], ["_batch"])
        .transform(explode_months, "valid_from", "valid_to", start, end)
        .join(sections, division.between(F.col("first_division"), F.col("last_division")), "left")
        .select("siren", "period", "name", "legal_category", "naf", "naf_section", "created_date")
    )


def head_office_monthly(
    establishments: DataFrame, departements: DataFrame, first_batch_month: dt.date, start: dt.date, end: dt.date
) -> DataFrame:
    """The head office known at each month: `siren, period, departement, region, town`.

    `departements` has `departement, region_code` (conf/reference/departements.csv).
    """
    versions = establishments.filter(F.col("is_head_office")).select(
        "siren", "_batch", "siret", "town",
        departement_col(F.col("commune_code")).alias("departement"),
        known_month(F.col("_batch"), F.lit(SINCE_EVER), first_batch_month).alias("known_month"),
    )
    regions = F.broadcast(departements.select("departement", F.col("region_code").alias("region")))
    return (
        version_intervals(versions, ["siren"], ["_batch", "siret"])
        .transform(explode_months, "valid_from", "valid_to", start, end)
        .join(regions, "departement", "left")
        .select("siren", "period", "departement", "region", "town")
    )
