"""Field rules: one function per way the extracts write a value, raw text column in, typed column out.

Every rule takes text already trimmed with blanks made null (`blank_to_null`) and returns null when
the text cannot be read that way, so the parser can quarantine the row with a reason. Rules are
Spark expressions only (no Python UDF): they also run inside higher-order functions.

The hot rules read the plain spelling most values have (`40193,38`, `01678120500394`, `028`)
through `plainly`: one anchored match, then cheap string functions; any other text takes the
general expression.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# Thousands separators written as spaces: plain, no-break (U+00A0) and narrow no-break (U+202F).
_SPACES = "[\\s\u00a0\u202f]"

# Month abbreviations of `26MAY2014`-style dates, English (SAS DATE9.) and French, accents removed.
MONTH_ABBREVIATIONS = {
    "JAN": 1, "JANV": 1, "FEB": 2, "FEV": 2, "FEVR": 2, "MAR": 3, "MARS": 3, "APR": 4, "AVR": 4,
    "AVRIL": 4, "MAY": 5, "MAI": 5, "JUN": 6, "JUIN": 6, "JUL": 7, "JUIL": 7, "AUG": 8, "AOU": 8,
    "AOUT": 8, "SEP": 9, "SEPT": 9, "OCT": 10, "NOV": 11, "DEC": 12,
}

# What a readable value looks like, for quarantine reasons ("<column>: 'x' is not <expects>").
A_SIREN = "a SIREN (9 digits)"
A_SIRET = "a SIRET (14 digits)"
A_NUMBER = "a number"
A_WHOLE_NUMBER = "a whole number"
A_FLAG = "a flag (1/0, true/false, O/N)"
A_URSSAF_PERIOD = "a URSSAF period code YYQM or YYYYQM (quarter Q 1-4, month M 0-3, or QM 62)"
A_URSSAF_DATE = "a date (A)AAMMJJ"
A_MONTH_NAME_DATE = "a date like 26MAY2014"
A_FRENCH_DATE = "a date dd/mm/yyyy"
A_ISO_DATE = "a date yyyy-mm-dd"

TRUE_WORDS = ("1", "true", "t", "o", "oui", "y", "yes")
FALSE_WORDS = ("0", "false", "f", "n", "non", "no")


def plainly(text: Column, plain: str, fast: Column, general: Column) -> Column:
    """`fast` where `text` matches the regular expression `plain`, else `general`.

    `plain` must admit only texts for which `fast` equals `general`, so that the branch changes
    the cost and never the result: the general expressions chain several regular expressions,
    each evaluated again wherever a rule refers to it, while a plain text costs one match. Anchor
    `plain` with `\\z`: `$` also matches before a final line terminator (U+0085, U+2028).
    """
    return F.when(text.rlike(plain), fast).otherwise(general)


def blank_to_null(text: Column) -> Column:
    """The text trimmed, null when empty: what every rule below expects as input."""
    trimmed = F.trim(text)
    return F.when(trimmed != "", trimmed)


def parse_text(text: Column) -> Column:
    """Free text, kept as written (already trimmed)."""
    return text


def parse_key(text: Column, length: int) -> Column:
    """A SIREN (`length` 9) or SIRET (14): digits, spaces removed, left-padded with zeros.

    Numeric exports drop leading zeros (`12345678` is SIREN `012345678`); more digits than
    `length`, or anything but digits and spaces, is not a key.
    """
    digits = F.regexp_replace(text, _SPACES, "")
    general = F.when(digits.rlike(f"^[0-9]{{1,{length}}}$"), F.lpad(digits, length, "0"))
    # Digits alone: nothing to remove.
    return plainly(text, f"^[0-9]{{1,{length}}}\\z", F.lpad(text, length, "0"), general)


def parse_siren(text: Column) -> Column:
    """A SIREN: 9 digits (see `parse_key`)."""
    return parse_key(text, 9)


def parse_siret(text: Column) -> Column:
    """A SIRET: 14 digits (see `parse_key`)."""
    return parse_key(text, 14)


def siren_of_siret(siret: Column) -> Column:
    """The SIREN of a SIRET: its first 9 characters."""
    return F.substring(siret, 1, 9)


def parse_decimal(text: Column) -> Column:
    """A decimal number as a double: decimal point or comma, thousands separators allowed.

    `1 234,5`, `1.234,5`, `1,234.5` and `1234.5` are all 1234.5: when both `.` and `,` occur, the
    last one is the decimal mark.
    """
    compact = F.regexp_replace(text, _SPACES, "")
    comma_decimal = compact.rlike(",[0-9]*$") & compact.contains(".")
    point_decimal = compact.rlike("\\.[0-9]*$") & compact.contains(",")
    normalised = (
        F.when(comma_decimal, F.regexp_replace(F.regexp_replace(compact, "\\.", ""), ",", "."))
        .when(point_decimal, F.regexp_replace(compact, ",", ""))
        .otherwise(F.regexp_replace(compact, ",", "."))
    )
    number = "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$"
    general = F.when(normalised.rlike(number), normalised.try_cast("double"))
    # No space and a single mark: the general rule only turns a comma into a point.
    fast = F.replace(text, F.lit(","), F.lit(".")).try_cast("double")
    return plainly(text, "^[+-]?[0-9]+([.,][0-9]+)?\\z", fast, general)


def parse_int(text: Column) -> Column:
    """A whole number as an int: leading zeros (`089`), thousands separators (`1 234`, `1.234`),
    and float exports of whole numbers (`559.0`) allowed; any other fraction is not an int."""
    compact = F.regexp_replace(text, _SPACES, "")
    grouped = compact.rlike("^[+-]?[0-9]{1,3}([.,][0-9]{3})+$")
    whole = compact.rlike("^[+-]?[0-9]+(\\.0*)?$")
    general = (
        F.when(grouped, F.regexp_replace(compact, "[.,]", "").try_cast("int"))
        .when(whole, F.regexp_replace(compact, "\\.0*$", "").try_cast("int"))
    )
    # Digits, or a float export with one or two zeros (`.000` after 1-3 digits reads as thousands).
    fast = F.substring_index(text, ".", 1).try_cast("int")
    return plainly(text, "^[+-]?[0-9]+(\\.0{1,2})?\\z", fast, general)


def parse_cents(text: Column) -> Column:
    """An amount written in cents (URSSAF debts), in euros."""
    return parse_decimal(text) / 100


def parse_date(text: Column, pattern: str) -> Column:
    """A date in a fixed Spark datetime `pattern` (`dd/MM/yyyy`, `yyyy-MM-dd`); impossible dates
    such as `01/15/2019` are null."""
    return F.try_to_date(text, pattern)


def parse_iso_date(text: Column) -> Column:
    """An ISO date `yyyy-MM-dd` (partial activity, SIRENE)."""
    return parse_date(text, "yyyy-MM-dd")


def parse_french_date(text: Column) -> Column:
    """A date `dd/mm/yyyy` (payment plans, paydex)."""
    return parse_date(text, "dd/MM/yyyy")


def parse_urssaf_date(text: Column) -> Column:
    """A URSSAF processing date `(A)AAMMJJ`: year minus 1900, month, day (`1160318` is 2016-03-18,
    `990505` is 1999-05-05); 8 digits are read as `yyyyMMdd` (registration dates)."""
    short = text.rlike("^[0-9]{6,7}$")
    as_yyyymmdd = F.lpad((text.try_cast("int") + F.lit(19000000)).cast("string"), 8, "0")
    return (
        F.when(short, F.try_to_date(as_yyyymmdd, "yyyyMMdd"))
        .when(text.rlike("^[0-9]{8}$"), F.try_to_date(text, "yyyyMMdd"))
    )


def parse_month_name_date(text: Column) -> Column:
    """A date written day, month abbreviation, year: `26MAY2014`, `31DEC2012`, `01FÉV2015`,
    `15août2016` (English or French abbreviation, any case, accents optional)."""
    pattern = "^([0-9]{1,2})[ .-]?([^0-9 .-]{3,5})[ .-]?([0-9]{4})$"
    general = F.when(text.rlike(pattern), _date_of_parts(*[F.regexp_extract(text, pattern, i) for i in (1, 2, 3)]))
    # SAS DATE9. (`26MAY2014`): day, month and year at fixed places.
    fast = _date_of_parts(F.substring(text, 1, 2), F.substring(text, 3, 3), F.substring(text, 6, 4))
    return plainly(text, "^[0-9]{2}[A-Z]{3}[0-9]{4}\\z", fast, general)


def _date_of_parts(day: Column, month_name: Column, year: Column) -> Column:
    """The date of a day, month abbreviation (`MONTH_ABBREVIATIONS`, any case, accents optional)
    and year, each as text; null for an unknown abbreviation or an impossible date."""
    token = F.translate(F.upper(month_name), "ÉÈÊËÛÙÔÎÂ", "EEEEUUOIA")
    months = F.create_map(*[F.lit(x) for pair in MONTH_ABBREVIATIONS.items() for x in pair])
    month = months[token]
    iso = F.format_string("%s-%02d-%s", year, month, F.lpad(day, 2, "0"))
    return F.when(month.isNotNull(), F.try_to_date(iso, "yyyy-MM-dd"))


def parse_urssaf_period(text: Column) -> Column:
    """A URSSAF period code `YYQM` or `YYYYQM` as `struct<start date, months int>`.

    Q is the quarter (1-4) and M the month within it (1-3), M=0 the whole quarter and QM=62 the
    whole year: `1031` is July 2010 (1 month), `201710` Q1 2017 (3 months), `201862` 2018
    (12 months). Two-digit years below 50 are 20YY, others 19YY. As in the State's importer, a
    month is month (Q-1)*3+M of the year (its expected output reads `199904` as January 1999); a
    code whose month falls outside its year is not a period.
    """
    century = F.when(F.substring(text, 1, 2) < "50", F.lit("20")).otherwise(F.lit("19"))
    full = F.when(text.rlike("^[0-9]{4}$"), F.concat(century, text)).when(text.rlike("^[0-9]{6}$"), text)
    year = F.substring(full, 1, 4).try_cast("int")
    quarter = F.substring(full, 5, 1).try_cast("int")
    month = F.substring(full, 6, 1).try_cast("int")
    month_of_year = (quarter - 1) * 3 + month

    def period(first_month: Column, months: int) -> Column:
        return F.struct(F.make_date(year, first_month, F.lit(1)).alias("start"), F.lit(months).alias("months"))

    return (
        F.when(F.substring(full, 5, 2) == "62", period(F.lit(1), 12))
        .when(quarter.between(1, 4) & (month == 0), period((quarter - 1) * 3 + 1, 3))
        .when((month > 0) & month_of_year.between(1, 12), period(month_of_year, 1))
    )


def parse_boolean(text: Column) -> Column:
    """A flag: `1`/`0`, `true`/`false`, `O`/`N` (oui/non), any case."""
    lowered = F.lower(text)
    return F.when(lowered.isin(*TRUE_WORDS), F.lit(True)).when(lowered.isin(*FALSE_WORDS), F.lit(False))


def parse_one_of(values: tuple[str, ...]):
    """A rule accepting exactly one of `values` (a code list), as written."""

    def parse(text: Column) -> Column:
        return F.when(text.isin(*values), text)

    return parse


def with_siren_from_siret(df: DataFrame) -> DataFrame:
    """`df` with `siren`, the first 9 characters of `siret` (sources that give only the SIRET)."""
    return df.withColumn("siren", siren_of_siret(F.col("siret")))


def with_period_columns(df: DataFrame) -> DataFrame:
    """`df` with `period_start` and `period_months` from the parsed URSSAF `period` struct."""
    return df.withColumns({"period_start": F.col("period.start"), "period_months": F.col("period.months")})
