"""Perimeter, month spine and the monthly profile of a firm (features/perimeter.py)."""
import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from features.perimeter import departement_col, head_office_monthly, legal_unit_monthly, perimeter_firms

D = dt.date
FIRST = D(2024, 1, 1)


def test_departement_of_commune_overseas_and_corsica(spark):
    expected = spark.createDataFrame([("75056", "75"), ("2A004", "2A"), ("97105", "971")], "commune string, dep string")
    actual = expected.drop("dep").withColumn("dep", departement_col(F.col("commune")))
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_perimeter_ten_employees_in_ten_years_without_public_bodies_education_or_finance(spark):
    headcount = spark.createDataFrame(
        [
            ("000000001", D(2020, 1, 1), 12, "2401"),
            ("000000002", D(2020, 1, 1), 12, "2401"),
            ("000000002", D(2020, 1, 1), 9, "2402"),  # revised below 10
            ("000000003", D(2020, 1, 1), 12, "2401"),  # a public body
            ("000000004", D(2020, 1, 1), 12, "2401"),  # a bank
            ("000000005", D(2014, 1, 1), 15, "2401"),  # more than ten years ago
            ("000000006", D(2020, 1, 1), 12, "2401"),  # unknown to SIRENE: nothing excludes it
            ("000000007", D(2023, 1, 1), 30, "2401"),  # created after the first month of data
        ],
        "siren string, month date, headcount int, _batch string",
    )
    units = spark.createDataFrame(
        [
            ("000000001", D(2001, 1, 1), "5710", "47.11F", "2401"),
            ("000000002", D(2001, 1, 1), "5710", "47.11F", "2401"),
            ("000000003", D(2001, 1, 1), "7120", "47.11F", "2401"),
            ("000000004", D(2001, 1, 1), "5599", "64.19Z", "2401"),
            ("000000005", D(2001, 1, 1), "5710", "47.11F", "2401"),
            ("000000007", D(2022, 6, 20), "5710", "43.21A", "2401"),
        ],
        "siren string, created_date date, legal_category string, naf string, _batch string",
    )
    actual = perimeter_firms(headcount, units, D(2019, 1, 1), D(2024, 6, 1), 10, 10, ["4", "7"],
                             ["84", "85", "64", "65", "66"])
    expected = spark.createDataFrame(
        [("000000001", D(2019, 1, 1)), ("000000006", D(2019, 1, 1)), ("000000007", D(2022, 6, 1))],
        "siren string, first_period date",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_profile_is_the_sirene_version_known_at_each_month(spark):
    units = spark.createDataFrame(
        [("000000001", "ACME", D(2001, 1, 1), "5710", "47.11F", "2401"),
         ("000000001", "ACME", D(2001, 1, 1), "5710", "56.10A", "2403")],  # new activity, March
        "siren string, name string, created_date date, legal_category string, naf string, _batch string",
    )
    establishments = spark.createDataFrame(
        [("000000001", "00000000100011", True, "75056", "PARIS", "2401"),
         ("000000001", "00000000100011", False, "75056", "PARIS", "2403"),
         ("000000001", "00000000100029", True, "2A004", "AJACCIO", "2403")],  # head office moves
        "siren string, siret string, is_head_office boolean, commune_code string, town string, _batch string",
    )
    departements = spark.createDataFrame([("75", "11"), ("2A", "94")], "departement string, region_code string")
    sections = spark.createDataFrame([("G", 45, 47), ("I", 55, 56)], "section string, first_division int, last_division int")
    start, end = D(2024, 2, 1), D(2024, 3, 1)
    units_monthly = legal_unit_monthly(units, sections, FIRST, start, end).select("siren", "period", "naf", "naf_section")
    offices = head_office_monthly(establishments, departements, FIRST, start, end)
    assert_df_equality(
        units_monthly,
        spark.createDataFrame([("000000001", D(2024, 2, 1), "47.11F", "G"), ("000000001", D(2024, 3, 1), "56.10A", "I")],
                              "siren string, period date, naf string, naf_section string"),
        ignore_row_order=True, ignore_nullable=True,
    )
    assert_df_equality(
        offices,
        spark.createDataFrame([("000000001", D(2024, 2, 1), "75", "11", "PARIS"),
                               ("000000001", D(2024, 3, 1), "2A", "94", "AJACCIO")],
                              "siren string, period date, departement string, region string, town string"),
        ignore_row_order=True, ignore_nullable=True,
    )
