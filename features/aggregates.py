"""Per-source monthly aggregates at SIREN level, with the rules of the real extracts.

Each function reads one bronze table (docs/TABLES.md) and returns one row per (siren, period) for
the months in [`start`, `end`] where the source says something, holding only what was known at
that month (features/point_in_time.py). `first_batch_month` is the month of the delivery's first
batch, whose history is dated by the rules rather than by its batch.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from features.calendar import batch_name, explode_months, month_start_col, months_between_col
from features.catalog import BDF_RATIOS
from features.point_in_time import known_month, version_intervals


def debt_month(processing_date: Column, cutoff_day: int) -> Column:
    """Spark column: the month a debt operation counts for (the day-20 rule).

    Contributions are due on the 15th and tolerated until the `cutoff_day` (20th): an operation
    processed up to that day counts for its month, a later one for the next month.
    """
    month = month_start_col(processing_date)
    return F.when(F.dayofmonth(processing_date) <= cutoff_day, month).otherwise(F.add_months(month, 1))


def contributions_monthly(
    contributions: DataFrame,
    first_batch_month: dt.date,
    start: dt.date,
    end: dt.date,
    carry_months: int,
) -> DataFrame:
    """Contributions due per siren and month: `siren, period, contributions_due` (euros).

    A period of several months is spread evenly over its months. Each establishment contributes
    the amount of its latest month known at the period (a month's contributions are known once
    they fall due, after the month), carried for at most `carry_months` months after that month.
    """
    shares = (
        contributions.withColumn("month_offset", F.explode(F.sequence(F.lit(0), F.col("period_months") - 1)))
        .withColumn("month", F.add_months("period_start", F.col("month_offset")))
        .withColumn("known_month", known_month(F.col("_batch"), F.col("month"), first_batch_month))
        .groupBy("siren", "siret", "month")
        # A month is known once all of its rows are.
        .agg(F.sum(F.col("amount_due") / F.col("period_months")).alias("amount"),
             F.max("known_month").alias("known_month"))
    )
    return (
        version_intervals(shares, ["siren", "siret"], ["month"], max_age_months=carry_months, age_from_col="month")
        .transform(explode_months, "valid_from", "valid_to", start, end)
        .groupBy("siren", "period")
        .agg(F.round(F.sum("amount"), 2).alias("contributions_due"))
    )


def debts_monthly(
    debts: DataFrame,
    first_batch_month: dt.date,
    start: dt.date,
    end: dt.date,
    cutoff_day: int,
) -> DataFrame:
    """Social debt per siren and month: `siren, period, debt_employee, debt_employer` (euros).

    A debt is a siret's unpaid period and debt number; its state at a month is its row with the
    highest history number among those counted by then (day-20 rule), carried forward until a
    newer state replaces it. Months without any open debt have no row.
    """
    states = debts.select(
        "siren", "siret", "period_code", "debt_number", "history_number",
        "amount_employee", "amount_employer",
        known_month(F.col("_batch"), debt_month(F.col("processing_date"), cutoff_day), first_batch_month)
        .alias("known_month"),
    )
    return (
        version_intervals(states, ["siren", "siret", "period_code", "debt_number"], ["history_number"])
        .filter((F.col("amount_employee") != 0) | (F.col("amount_employer") != 0))
        .transform(explode_months, "valid_from", "valid_to", start, end)
        .groupBy("siren", "period")
        .agg(F.round(F.sum("amount_employee"), 2).alias("debt_employee"),
             F.round(F.sum("amount_employer"), 2).alias("debt_employer"))
    )


def headcount_history(company: DataFrame, establishments: DataFrame) -> DataFrame:
    """Every delivered headcount of a firm: `siren, month, headcount, _batch`, per delivery.

    The company file is the firm's headcount; for a firm missing from it, the sum of its
    establishments' headcounts delivered in the same batch stands in.
    """
    from_company = company.select("siren", F.col("period").alias("month"), "headcount", "_batch")
    from_establishments = (
        establishments.join(company.select("siren").distinct(), "siren", "left_anti")
        .groupBy("siren", F.col("period").alias("month"), "_batch")
        .agg(F.sum("headcount").alias("headcount"))
    )
    return from_company.unionByName(from_establishments)


def headcount_versions(history: DataFrame, first_batch_month: dt.date, delay_months: tuple[int, int]) -> DataFrame:
    """Every delivered headcount and the month it is known: `siren, month, headcount, _batch, known_month`.

    `history` is `headcount_history`. A month's headcount is published after the firm's delay: the
    first batch shows it (its latest months are blank), bounded by `delay_months` (min, max); a firm
    missing from the first batch gets the minimum. A later batch's row is known from its batch
    month at the earliest.
    """
    low, high = delay_months
    observed = (
        history.filter(F.col("_batch") == batch_name(first_batch_month))
        .groupBy("siren")
        .agg(months_between_col(F.lit(first_batch_month), F.max("month")).alias("delay"))
    )
    delay = F.least(F.lit(high), F.greatest(F.lit(low), F.coalesce(F.col("delay"), F.lit(low))))
    return (
        history.join(observed, "siren", "left")
        .withColumn("known_month", known_month(F.col("_batch"), F.add_months("month", delay), first_batch_month))
        .drop("delay")
    )


def headcount_monthly(
    history: DataFrame,
    first_batch_month: dt.date,
    start: dt.date,
    end: dt.date,
    delay_months: tuple[int, int],
    carry_months: int,
) -> DataFrame:
    """The firm's latest known headcount per month: `siren, period, headcount, headcount_carried`.

    `history` is `headcount_history`, known by `headcount_versions`' rule (publication delay within
    `delay_months`). Each period shows the latest month known by then (a later delivery of the same
    month wins), flagged `headcount_carried` when that month is earlier than the period, and carried
    for at most `carry_months` months after its month.
    """
    versions = headcount_versions(history, first_batch_month, delay_months)
    return (
        version_intervals(versions, ["siren"], ["month", "_batch"], max_age_months=carry_months, age_from_col="month")
        .transform(explode_months, "valid_from", "valid_to", start, end)
        .select("siren", "period", "headcount", (F.col("month") < F.col("period")).alias("headcount_carried"))
    )


def ap_authorised_monthly(requests: DataFrame, first_batch_month: dt.date, start: dt.date, end: dt.date) -> DataFrame:
    """Partial-activity hours authorised per siren and month: `siren, period, ap_hours_authorised`.

    A request's hours are spread evenly over the days from its start to its end date; a day that
    several requests of the same establishment cover counts once, at the highest daily rate among
    the requests known by that day's month (a request is known from its decision date).

    Requests are spread over months first: a month that one request alone covers for its
    establishment gets its days times its rate, and only the months that several share are spread
    over days (a request spans about six months of days: spreading every one by day made 120M rows
    at national scale).
    """
    first_day = F.greatest("start_date", F.lit(start))
    last_day = F.least("end_date", F.last_day(F.lit(end)))
    months = (
        requests.filter(F.col("end_date") >= F.col("start_date"))
        .select(
            "siren", "siret",
            (F.col("hours_authorised") / (F.datediff("end_date", "start_date") + 1)).alias("daily_hours"),
            known_month(F.col("_batch"), month_start_col(F.col("status_date")), first_batch_month).alias("known_month"),
            first_day.alias("first_day"), last_day.alias("last_day"),
        )
        .filter(F.col("first_day") <= F.col("last_day"))
        .withColumn("period", F.explode(F.sequence(month_start_col(F.col("first_day")),
                                                   month_start_col(F.col("last_day")), F.expr("INTERVAL 1 MONTH"))))
        .filter(F.col("known_month") <= F.col("period"))
        .select("siren", "siret", "period", "daily_hours",
                F.greatest("first_day", "period").alias("first_day"),
                F.least("last_day", F.last_day("period")).alias("last_day"))
        .withColumn("sharing", F.count(F.lit(1)).over(Window.partitionBy("siret", "period")))
    )
    alone = months.filter(F.col("sharing") == 1).select(
        "siren", "period", ((F.datediff("last_day", "first_day") + 1) * F.col("daily_hours")).alias("hours"))
    shared = (
        months.filter(F.col("sharing") > 1)
        .withColumn("day", F.explode(F.sequence("first_day", "last_day")))
        .groupBy("siren", "siret", "period", "day")
        .agg(F.max("daily_hours").alias("hours"))
        .select("siren", "period", "hours")
    )
    return (
        alone.unionByName(shared)
        .groupBy("siren", "period")
        .agg(F.round(F.sum("hours"), 2).alias("ap_hours_authorised"))
    )


def ap_used_monthly(consumption: DataFrame, first_batch_month: dt.date, start: dt.date, end: dt.date) -> DataFrame:
    """Partial-activity hours used per siren and month: `siren, period, ap_hours_used`.

    Hours count for their month when known by then (hours delivered after their month never
    reach that month's row).
    """
    known = known_month(F.col("_batch"), F.col("month"), first_batch_month)
    return (
        consumption.filter((known <= F.col("month")) & F.col("month").between(F.lit(start), F.lit(end)))
        .groupBy("siren", F.col("month").alias("period"))
        .agg(F.round(F.sum("hours_used"), 2).alias("ap_hours_used"))
    )


def payment_plans_monthly(plans: DataFrame, first_batch_month: dt.date, start: dt.date, end: dt.date) -> DataFrame:
    """URSSAF payment plans in force per siren and month.

    Returns `siren, period, payment_plan_count, payment_plan_amount` (euros),
    `payment_plan_days_left` (the longest time left at the month's end) and
    `payment_plan_expected_remaining` (what would remain due if each plan were repaid linearly over
    its days: amount x days left / duration). A plan runs from its creation date for its duration
    and counts for every month it overlaps, from the month it is known.
    """
    end_date = F.date_add("created_date", F.col("duration_days"))
    in_force = (
        plans.filter(F.col("duration_days") > 0)
        .select(
            "siren", "amount", "duration_days", end_date.alias("end_date"),
            known_month(F.col("_batch"), month_start_col(F.col("created_date")), first_batch_month).alias("valid_from"),
            month_start_col(end_date).alias("valid_to"),
        )
        .transform(explode_months, "valid_from", "valid_to", start, end)
        .withColumn("days_left", F.greatest(F.lit(0), F.datediff("end_date", F.last_day("period"))))
    )
    return in_force.groupBy("siren", "period").agg(
        F.count(F.lit(1)).alias("payment_plan_count"),
        F.round(F.sum("amount"), 2).alias("payment_plan_amount"),
        F.max("days_left").alias("payment_plan_days_left"),
        F.round(F.sum(F.col("amount") * F.col("days_left") / F.col("duration_days")), 2)
        .alias("payment_plan_expected_remaining"),
    )


def ccsf_monthly(ccsf: DataFrame, first_batch_month: dt.date, start: dt.date, end: dt.date) -> DataFrame:
    """The latest known CCSF (debt committee) stage per siren and month: `siren, period, ccsf_stage`.

    The stage of the firm's latest processed CCSF event, carried until a newer one is known.
    """
    events = ccsf.select(
        "siren", "processing_date", F.col("stage").alias("ccsf_stage"),
        known_month(F.col("_batch"), month_start_col(F.col("processing_date")), first_batch_month).alias("known_month"),
    )
    return (
        version_intervals(events, ["siren"], ["processing_date", "ccsf_stage"])
        .transform(explode_months, "valid_from", "valid_to", start, end)
        .select("siren", "period", "ccsf_stage")
    )


def bdf_monthly(
    ratios: DataFrame,
    first_batch_month: dt.date,
    start: dt.date,
    end: dt.date,
    publication_months: int,
    valid_months: int,
) -> DataFrame:
    """Banque de France ratios of the current balance sheet per siren and month: `siren, period, <BDF_RATIOS>`.

    A balance sheet is published `publication_months` (7) after its closing date and stays current
    for `valid_months` (13) months from then, unless a later closing replaces it; a sheet delivered
    late is current from its delivery to the same end.
    """
    published = F.add_months(month_start_col(F.col("closing_date")), publication_months)
    sheets = ratios.select(
        "siren", "closing_date", "_batch", *BDF_RATIOS, published.alias("published_month"),
        known_month(F.col("_batch"), published, first_batch_month).alias("known_month"),
    )
    return (
        version_intervals(sheets, ["siren"], ["closing_date", "_batch"],
                          max_age_months=valid_months, age_from_col="published_month")
        .transform(explode_months, "valid_from", "valid_to", start, end)
        .select("siren", "period", *BDF_RATIOS)
    )


def paydex_monthly(
    paydex: DataFrame, first_batch_month: dt.date, start: dt.date, end: dt.date, valid_months: int
) -> DataFrame:
    """Supplier payment delay per siren and month: `siren, period, paydex_days`.

    The last value known at the month (latest value date), current for `valid_months` months from
    its own month.
    """
    values = paydex.select(
        "siren", "value_date", "_batch", F.col("days_late").alias("paydex_days"),
        month_start_col(F.col("value_date")).alias("value_month"),
    ).withColumn("known_month", known_month(F.col("_batch"), F.col("value_month"), first_batch_month))
    return (
        version_intervals(values, ["siren"], ["value_date", "_batch"],
                          max_age_months=valid_months, age_from_col="value_month")
        .transform(explode_months, "valid_from", "valid_to", start, end)
        .select("siren", "period", "paydex_days")
    )
