"""Each field rule on the ways the extracts write values, readable and not (null = quarantine)."""
import datetime as dt
import re
from random import Random

from chispa import assert_df_equality
from pyspark.sql import functions as F

from ingestion import fields, reading
from ingestion.sources.headcount import month_of_headcount_column
from ingestion.reading import split_fields
from ingestion.sources.proceedings import parse_proceeding_label


def check(spark, rule, rows, value_type):
    """The rule applied to column `text` (trimmed, blank as null) gives column `value`."""
    expected = spark.createDataFrame(rows, f"text string, value {value_type}")
    actual = expected.drop("value").withColumn("value", rule(fields.blank_to_null(F.col("text"))))
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)


def test_siren_and_siret_are_digits_left_padded(spark):
    check(spark, fields.parse_siren, [
        ("123456789", "123456789"),
        ("12345678", "012345678"),          # a numeric export lost the leading zero
        ("000 111 222", "000111222"),       # Banque de France writes spaces
        (" 552100554 ", "552100554"),
        ("1234567890", None),               # too long
        ("12345A789", None),
        ("", None),
    ], "string")
    check(spark, fields.parse_siret, [
        ("55210055400013", "55210055400013"),
        ("5210055400013", "05210055400013"),
        ("552100554000130", None),
        ("5521005540001X", None),
    ], "string")


def test_decimal_point_or_comma_and_thousands(spark):
    check(spark, fields.parse_decimal, [
        ("5065.79", 5065.79),
        ("5065,79", 5065.79),
        ("1 234,5", 1234.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("-68231", -68231.0),
        ("235", 235.0),
        ("N/A", None),
        ("#VALEUR!", None),
        ("12O5", None),
        ("--", None),
    ], "double")


def test_int_zero_padded_thousands_and_float_exports(spark):
    check(spark, fields.parse_int, [
        ("089", 89),
        ("000", 0),
        ("1 234", 1234),
        ("1\u00a0234", 1234),
        ("559.0", 559),
        ("8", 8),
        ("12.5", None),
        ("12O5", None),
    ], "int")


def test_cents_become_euros(spark):
    check(spark, fields.parse_cents, [("195907", 1959.07), ("3", 0.03), ("0", 0.0), ("N/A", None)], "double")


def test_fixed_pattern_dates_reject_impossible_ones(spark):
    check(spark, fields.parse_french_date, [
        ("15/12/2018", dt.date(2018, 12, 15)),
        ("01/15/2019", None),               # month 15: the paydex sample's impossible date
        ("30/02/2019", None),
        ("2019-01-15", None),
    ], "date")
    check(spark, fields.parse_iso_date, [
        ("2017-09-09", dt.date(2017, 9, 9)),
        ("2019-02-30", None),
        ("09/09/2017", None),
    ], "date")


def test_urssaf_date_is_year_minus_1900(spark):
    check(spark, fields.parse_urssaf_date, [
        ("1160318", dt.date(2016, 3, 18)),
        ("990505", dt.date(1999, 5, 5)),
        ("1180130", dt.date(2018, 1, 30)),
        ("20150708", dt.date(2015, 7, 8)),  # registration dates: yyyyMMdd
        ("1191332", None),                  # month 13
        ("11903", None),
        ("1A60318", None),
    ], "date")


def test_month_name_dates_in_english_and_french(spark):
    check(spark, fields.parse_month_name_date, [
        ("26MAY2014", dt.date(2014, 5, 26)),
        ("31DEC2012", dt.date(2012, 12, 31)),
        ("04oct2017", dt.date(2017, 10, 4)),
        ("01FEV2015", dt.date(2015, 2, 1)),
        ("01FÉV2015", dt.date(2015, 2, 1)),
        ("15AOU2016", dt.date(2016, 8, 15)),
        ("15AOÛT2016", dt.date(2016, 8, 15)),
        ("03MAI2019", dt.date(2019, 5, 3)),
        ("9JUIL2020", dt.date(2020, 7, 9)),
        ("31FEB2019", None),
        ("31FEV2019", None),
        ("26XYZ2014", None),
        ("2014-05-26", None),
    ], "date")


def test_urssaf_period_codes_month_quarter_year(spark):
    check(spark, fields.parse_urssaf_period, [
        ("1031", (dt.date(2010, 7, 1), 1)),
        ("1022", (dt.date(2010, 5, 1), 1)),
        ("0232", (dt.date(2002, 8, 1), 1)),
        ("9911", (dt.date(1999, 1, 1), 1)),         # two-digit years from 50 are 19YY
        ("201712", (dt.date(2017, 2, 1), 1)),
        ("201511", (dt.date(2015, 1, 1), 1)),
        ("201710", (dt.date(2017, 1, 1), 3)),       # M=0: the whole quarter
        ("201840", (dt.date(2018, 10, 1), 3)),
        ("201862", (dt.date(2018, 1, 1), 12)),      # QM=62: the whole year
        ("1962", (dt.date(2019, 1, 1), 12)),
        ("199904", (dt.date(1999, 1, 1), 1)),       # read as the State's importer does
        ("1957", None),                             # month 19 of the year
        ("201850", None),
        ("201800", None),
        ("20181", None),
        ("2018Q1", None),
    ], "struct<start: date, months: int>")


def test_boolean_flags_and_code_lists(spark):
    check(spark, fields.parse_boolean, [
        ("1", True), ("0", False), ("true", True), ("false", False), ("O", True), ("N", False), ("2", None),
    ], "boolean")
    check(spark, fields.parse_one_of(("DEBUT", "FIN")), [("DEBUT", "DEBUT"), ("FIN", "FIN"), ("fin", None)], "string")


def test_proceeding_label_splits_stage_and_action(spark):
    check(spark, parse_proceeding_label, [
        ("Ouverture_procedure_liquidation", ("ouverture_procedure", "liquidation")),
        ("Solde_procedure_redressement", ("solde_procedure", "redressement")),
        ("Plan_continuation_sauvegarde", ("plan_continuation", "sauvegarde")),
        ("Ouverture_procedure", None),
        ("liquidation", None),
    ], "struct<stage: string, action: string>")


def test_headcount_column_names_are_one_month_codes(spark):
    check(spark, month_of_headcount_column, [
        ("eff201011", dt.date(2010, 1, 1)),
        ("eff201631", dt.date(2016, 7, 1)),
        ("eff201921", dt.date(2019, 4, 1)),
        ("eff201610", None),                # a quarter, not a month
        ("effectif", None),
    ], "date")


def test_plain_spellings_read_as_the_general_rules_do(spark, monkeypatch):
    """Each rule's fast branch (`fields.plainly`) gives what its general expression gives, on
    random texts around the plain spellings: signs, marks, spaces, letters, line terminators."""
    random = Random(7)
    odd = "0123456789,.+-eE/ \u00a0\u202f\t\u0085\u2028AJNUaéÉ\"';"

    def digits(low, high):
        return "".join(random.choice("0123456789") for _ in range(random.randint(low, high)))

    def plain_text():
        return random.choice([
            lambda: random.choice(["", "-", "+"]) + digits(1, 14) + random.choice(["", ",", "."]) + digits(0, 3),
            lambda: digits(2, 2) + random.choice(["MAY", "DEC", "FEB", "XYZ", "may"]) + digits(4, 4),
            lambda: ",".join(random.choice(['"' + digits(0, 3) + '"', digits(0, 3), '"a,b"', '""']) for _ in range(3)),
        ])()

    def mutated(text):  # one character replaced or inserted, the near misses of a plain text
        at = random.randint(0, len(text))
        return text[:at] + random.choice(odd) + text[at + random.randint(0, 1):]

    texts = [
        "14.000", "14.00", "1.0", "+5", "-0,5", "0001", "1 234", "12345678901234", "123456789012345",
        "1911", "201862", "0232", "26MAY2014", "1JAN2019", "26may2014", "31FEB2019", "15AOU2016",
        '"a","b"', '"a,b",c', '"",x', '"a""b"', '"a\u0085",b', "a\u2028,b",
    ]
    texts += [plain_text() for _ in range(2000)] + [mutated(plain_text()) for _ in range(2000)]
    df = spark.createDataFrame([(t,) for t in texts], "raw string").withColumn("text", fields.blank_to_null(F.col("raw")))
    rules = {
        "siren": fields.parse_siren, "siret": fields.parse_siret, "decimal": fields.parse_decimal,
        "int": fields.parse_int, "cents": fields.parse_cents, "period": fields.parse_urssaf_period,
        "month_name_date": fields.parse_month_name_date,
    }

    def parsed():
        columns = {name: rule(F.col("text")) for name, rule in rules.items()}
        columns["split"] = split_fields(F.col("raw"), ",", quoted=True)
        return df.withColumns(columns)

    fast = parsed().collect()
    monkeypatch.setattr(fields, "plainly", lambda text, plain, fast, general: general)
    monkeypatch.setattr(reading, "plainly", lambda text, plain, fast, general: general)
    general = parsed().collect()
    assert [r.asDict() for r in fast] == [r.asDict() for r in general]
    # Both branches were taken: numbers written plainly, and numbers read only by the general rule.
    numbers = [r.text for r in fast if r.decimal is not None]
    plain = [t for t in numbers if re.fullmatch("[+-]?[0-9]+([.,][0-9]+)?", t)]
    assert len(plain) > 500 and len(numbers) - len(plain) > 50
