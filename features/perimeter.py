"""The panel's firms and their profile: perimeter, month spine, location, sector, legal category.

Perimeter membership is decided, month by month, on the headcount known at that month
(`headcount_spans`), so a new batch leaves the membership of earlier months as it was; exclusions
by legal category and activity on the latest SIRENE version. The profile of a row (name, head
office, sector) is the SIRENE version known at its period.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from features.calendar import batch_month_col, explode_months
from features.point_in_time import known_month, version_intervals

# The first batch's SIRENE stock describes each firm since its creation.
SINCE_EVER = dt.date(1900, 1, 1)


def departement_col(commune_code: Column) -> Column:
    """Spark column: the département of a commune code (3 characters overseas `97x`, else 2; `2A`/`2B` in Corsica)."""
    return F.when(commune_code.startswith("97"), commune_code.substr(1, 3)).otherwise(commune_code.substr(1, 2))


def naf_division_col(naf: Column) -> Column:
    """Spark column: the 2-digit NAF division of a code `NN.NNL`, as an integer."""
    return naf.substr(1, 2).cast("int")


def headcount_spans(versions: DataFrame, end: dt.date, min_headcount: int, lookback_years: int) -> DataFrame:
    """The months each firm is in by its headcount, as known at each month: one row per span of
    consecutive months, `siren, first_period, last_period, known_month`.

    `versions` is aggregates.headcount_versions (every delivered headcount and the month it is
    known); what is known after `end` does not count. A firm is in at a month when the headcount
    known then (of each month, its latest delivery known by then) shows `min_headcount` or more
    employees in some month of the `lookback_years` years up to it. So it enters the month such a
    month becomes known, and leaves once the lookback holds none (a revision below the threshold
    counts from when it is known). One exception: a firm already that large when first known (the
    earliest month of its headcount known at the first month any of it is known shows
    `min_headcount` or more) is in from that earliest month: its creation, or the first month of
    data for an older firm. `known_month` is the month a span's start became known: its
    `first_period` but for that exception. `last_period` is its last month, null when it is still
    in at `end`.
    """
    known = versions.filter(F.col("known_month") <= F.lit(end)).select(
        "siren", "month", "headcount", "_batch", "known_month"
    )
    # Most firms never reach the threshold: only those that do need their months dated.
    reaching = known.filter(F.col("headcount") >= min_headcount).select("siren").distinct()
    known = known.join(reaching, "siren", "left_semi")
    # While a month is in the lookback, the latest delivery of it known so far decides.
    large = version_intervals(
        known, ["siren", "month"], ["_batch"], max_age_months=12 * lookback_years, age_from_col="month"
    ).filter(F.col("headcount") >= min_headcount)
    first = known.groupBy("siren").agg(F.min(F.struct("known_month", "month")).alias("first"))
    already_large = (F.col("month") == F.col("first.month")) & (F.col("valid_from") == F.col("first.known_month"))
    spans = large.join(first, "siren").select(
        "siren",
        F.when(already_large, F.col("month")).otherwise(F.col("valid_from")).alias("first_period"),
        F.col("valid_to").alias("last_period"),
        F.col("valid_from").alias("known_month"),
    )
    return _merged(spans).withColumn(
        "last_period", F.when(F.col("last_period") < F.lit(end), F.col("last_period"))
    )


def _merged(spans: DataFrame) -> DataFrame:
    """Overlapping or adjacent spans of a firm (`first_period` to `last_period`, both set) as one."""
    by_firm = Window.partitionBy("siren").orderBy("first_period", "last_period")
    reach = F.max("last_period").over(by_firm.rowsBetween(Window.unboundedPreceding, -1))
    starts_anew = F.coalesce(F.col("first_period") > F.add_months(reach, 1), F.lit(True))
    return (
        spans.withColumn("_new", starts_anew.cast("int"))
        .withColumn("_span", F.sum("_new").over(by_firm.rowsBetween(Window.unboundedPreceding, 0)))
        .groupBy("siren", "_span")
        .agg(F.min("first_period").alias("first_period"), F.max("last_period").alias("last_period"),
             F.min("known_month").alias("known_month"))
        .drop("_span")
    )


def excluded_firms(
    legal_units: DataFrame, excluded_legal_category_prefixes: Sequence[str], excluded_naf_divisions: Sequence[str]
) -> DataFrame:
    """The firms whose latest delivered SIRENE legal unit is out of the perimeter: `siren`, one per firm.

    Out: a legal category starting with one of `excluded_legal_category_prefixes` (public bodies:
    4xxx, 7xxx) or a NAF division among `excluded_naf_divisions` (administration, education,
    finance).
    """
    latest = F.max_by(F.struct("legal_category", "naf"), F.col("_batch"))
    excluded = F.col("naf").substr(1, 2).isin(list(excluded_naf_divisions))
    for prefix in excluded_legal_category_prefixes:
        excluded = excluded | F.col("legal_category").startswith(prefix)
    units = legal_units.groupBy("siren").agg(latest.alias("unit")).select("siren", "unit.*")
    return units.filter(excluded).select("siren")


def perimeter_spans(
    spans: DataFrame,
    legal_units: DataFrame,
    excluded_legal_category_prefixes: Sequence[str],
    excluded_naf_divisions: Sequence[str],
) -> DataFrame:
    """The panel's firms and months: the `headcount_spans` of the firms `excluded_firms` leaves in.

    A firm whose legal unit is unknown (e.g. its row was quarantined) stays in.
    """
    excluded = excluded_firms(legal_units, excluded_legal_category_prefixes, excluded_naf_divisions)
    return spans.join(excluded, "siren", "left_anti")


def perimeter_changes(
    spans: DataFrame,
    legal_units: DataFrame,
    after: dt.date,
    excluded_legal_category_prefixes: Sequence[str],
    excluded_naf_divisions: Sequence[str],
) -> DataFrame:
    """The `headcount_spans` whose months up to `after` the batches after month `after` change:
    `siren, first_period`.

    Headcount known from a batch's month decides no earlier month, with one exception: a firm first
    known from then whose rows start at its first month of data. And the exclusion of a firm is
    decided on its latest SIRENE version, for every month: a batch that changes it changes them all.
    """
    delivered_by_then = legal_units.filter(batch_month_col(F.col("_batch")) <= F.lit(after))
    exclusions = (excluded_legal_category_prefixes, excluded_naf_divisions)
    changed_exclusion = (
        excluded_firms(delivered_by_then, *exclusions)
        .unionByName(excluded_firms(legal_units, *exclusions))
        .groupBy("siren")
        .count()
        .filter(F.col("count") == 1)  # excluded then or now, not both
        .select("siren")
    )
    return (
        spans.filter(F.col("known_month") > F.lit(after))
        .unionByName(spans.join(changed_exclusion, "siren", "left_semi"))
        .filter(F.col("first_period") <= F.lit(after))
        .select("siren", "first_period")
    )


def firm_months(spans: DataFrame, start: dt.date, end: dt.date) -> DataFrame:
    """The month spine: `siren, period` for every month of [`start`, `end`] in one of the firms' `spans`."""
    return spans.select("siren", "first_period", "last_period").transform(
        explode_months, "first_period", "last_period", start, end
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
