"""The text forms of identifiers, dates, periods and amounts in the real extracts, vectorised.

Every function takes numpy arrays and returns a list of `str`, one per element: file rows are
joined from such lists. Months are absolute month numbers `year * 12 + month - 1`; days are
`datetime64[D]` arrays.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

EN_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
# The French SAS abbreviations of the Banque de France exports (same width as the English ones).
FR_MONTHS = ["JAN", "FEV", "MAR", "AVR", "MAI", "JUN", "JUL", "AOU", "SEP", "OCT", "NOV", "DEC"]


def month_number(month: dt.date) -> int:
    """The absolute month number of a date's month."""
    return month.year * 12 + month.month - 1


def month_date(number: int) -> dt.date:
    """The first day of an absolute month number."""
    return dt.date(number // 12, number % 12 + 1, 1)


def first_day(months: np.ndarray) -> np.ndarray:
    """`datetime64[D]` of the first day of each absolute month number."""
    return (np.asarray(months, dtype=np.int64) - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")


def month_number_of(days: np.ndarray) -> np.ndarray:
    """Absolute month number of each `datetime64[D]` date."""
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12


def days_in_month(months: np.ndarray) -> np.ndarray:
    """Number of days of each absolute month number."""
    return (first_day(np.asarray(months) + 1) - first_day(months)).astype(np.int64)


def split_dates(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day (1-31) of each date."""
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _by_unique(values: np.ndarray, render) -> list[str]:
    # Dates and periods repeat a lot: format each distinct value once.
    unique, inverse = np.unique(values, return_inverse=True)
    texts = np.array([render(v) for v in unique.tolist()] or [""], dtype=object)
    return texts[inverse.ravel()].tolist()


def _date_formatter(pattern):
    def render(days: np.ndarray) -> list[str]:
        return _by_unique(np.asarray(days, dtype="datetime64[D]"), pattern)
    return render


iso_date = _date_formatter(lambda d: d.isoformat())
"""`yyyy-mm-dd`."""
compact_date = _date_formatter(lambda d: d.strftime("%Y%m%d"))
"""`yyyymmdd` (URSSAF account registration dates)."""
slash_date = _date_formatter(lambda d: d.strftime("%d/%m/%Y"))
"""`dd/mm/yyyy` (payment plans, paydex)."""
urssaf_date = _date_formatter(lambda d: f"{d.year - 1900}{d.month:02d}{d.day:02d}")
"""`(A)AAMMJJ`: year minus 1900, month, day (`1160318` = 2016-03-18)."""
english_date = _date_formatter(lambda d: f"{d.day:02d}{EN_MONTHS[d.month - 1]}{d.year}")
"""`26MAY2014` (proceedings)."""
french_date = _date_formatter(lambda d: f"{d.day:02d}{FR_MONTHS[d.month - 1]}{d.year}")
"""`31DEC2012` with French month abbreviations (`15AVR2019`; Banque de France)."""
timestamp = _date_formatter(lambda d: f"{d.isoformat()}T{(d.toordinal() * 7) % 24:02d}:"
                                      f"{(d.toordinal() * 13) % 60:02d}:{(d.toordinal() * 29) % 60:02d}")
"""`yyyy-mm-ddThh:mm:ss`, the clock part a fixed function of the day (SIRENE processing times)."""


def period_code(months: np.ndarray, long_year: bool, quarter: bool = False) -> list[str]:
    """URSSAF period codes: `YYQM` (or `YYYYQM`); `quarter` gives the whole quarter `YYQ0`.

    `months` are absolute month numbers (for a quarter, any month of it).
    """
    def render(number: int) -> str:
        year, month0 = divmod(number, 12)
        q, m = divmod(month0, 3)
        year_text = f"{year}" if long_year else f"{year % 100:02d}"
        return f"{year_text}{q + 1}{0 if quarter else m + 1}"
    return _by_unique(np.asarray(months, dtype=np.int64), render)


def integers(values: np.ndarray) -> list[str]:
    """Plain integers."""
    return list(map(str, np.asarray(values).tolist()))


_PADDED: dict[int, list[str]] = {}


def zero_padded(values: np.ndarray, width: int) -> list[str]:
    """Integers left-padded with zeros (`089`)."""
    values = np.asarray(values, dtype=np.int64)
    if width > 4:
        return list(map(f"{{:0{width}d}}".format, values.tolist()))
    # Small numbers repeat: look their text up, and format only the few out of the table's range.
    table = _PADDED.setdefault(width, [f"{i:0{width}d}" for i in range(10**width)])
    texts = list(map(table.__getitem__, np.clip(values, 0, 10**width - 1).tolist()))
    for i in np.flatnonzero((values < 0) | (values >= 10**width)).tolist():
        texts[i] = f"{values[i]:0{width}d}"
    return texts


def decimals(values: np.ndarray, places: int, comma: bool = False) -> list[str]:
    """Fixed-point numbers (`5697.00`, or `5697,00` with `comma`)."""
    texts = list(map(f"{{:.{places}f}}".format, np.asarray(values, dtype=np.float64).tolist()))
    return [t.replace(".", ",") for t in texts] if comma else texts


def floats(values: np.ndarray) -> list[str]:
    """Python's shortest float text (`559.0`, `311.54`), as pandas writes them."""
    return list(map(repr, np.asarray(values, dtype=np.float64).tolist()))


def cents_as_euros(cents: np.ndarray, comma: bool) -> list[str]:
    """Amounts held in cents written in euros with two decimals (`1234,56`)."""
    euros, rest = np.divmod(np.asarray(cents, dtype=np.int64), 100)
    sep = "," if comma else "."
    two_digits = zero_padded(rest, 2)
    return [f"{e}{sep}{c}" for e, c in zip(euros.tolist(), two_digits)]


def spaced_siren(sirens: list[str]) -> list[str]:
    """`000 111 222`: a SIREN in groups of three, as Banque de France files write it."""
    return [f"{s[:3]} {s[3:6]} {s[6:]}" for s in sirens]


def with_thousands(values: np.ndarray, width: int, spaced: np.ndarray) -> list[str]:
    """Zero-padded integers, with a space between thousands where `spaced` is set (`1 234`)."""
    texts = zero_padded(values, width)
    for i in np.flatnonzero(spaced & (np.asarray(values) >= 1000)).tolist():
        texts[i] = f"{int(values[i]):,}".replace(",", " ")
    return texts


def luhn_check_digit(bodies: np.ndarray, length: int) -> np.ndarray:
    """The digit that makes `body * 10 + digit` pass the Luhn test, for `length-1`-digit bodies."""
    bodies = np.asarray(bodies, dtype=np.int64)
    total = np.zeros(len(bodies), dtype=np.int64)
    rest = bodies.copy()
    # Walk the body's digits from the right; the rightmost body digit is doubled.
    for position in range(length - 1):
        digit = rest % 10
        rest //= 10
        if position % 2 == 0:
            digit = digit * 2
            digit = np.where(digit > 9, digit - 9, digit)
        total += digit
    return (10 - total % 10) % 10
