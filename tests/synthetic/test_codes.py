"""Text forms of periods, dates and keys, checked on the examples EXTRACTS.md and the fixtures give."""
import datetime as dt

import numpy as np

from synthetic import codes


def _days(*dates: str) -> np.ndarray:
    return np.array(dates, dtype="datetime64[D]")


def test_period_codes_short_long_and_quarter():
    july_2010 = codes.month_number(dt.date(2010, 7, 1))
    february_2017 = codes.month_number(dt.date(2017, 2, 1))
    assert codes.period_code(np.array([july_2010]), long_year=False) == ["1031"]
    assert codes.period_code(np.array([february_2017]), long_year=True) == ["201712"]
    # Any month of a quarter gives the whole-quarter code (month digit 0).
    assert codes.period_code(np.array([february_2017, july_2010]), long_year=False, quarter=True) == ["1710", "1030"]


def test_urssaf_processing_dates_count_years_from_1900():
    assert codes.urssaf_date(_days("2016-03-18", "1999-05-05")) == ["1160318", "990505"]


def test_procedure_and_banque_de_france_dates():
    assert codes.english_date(_days("2014-05-26")) == ["26MAY2014"]
    assert codes.french_date(_days("2012-12-31", "2019-04-30", "2019-08-31")) == ["31DEC2012", "30AVR2019", "31AOU2019"]
    assert codes.slash_date(_days("2019-01-23")) == ["23/01/2019"]
    assert codes.compact_date(_days("2015-07-08")) == ["20150708"]


def test_amounts_and_padding():
    assert codes.cents_as_euros(np.array([195907, 5, 0]), comma=True) == ["1959,07", "0,05", "0,00"]
    assert codes.cents_as_euros(np.array([506579]), comma=False) == ["5065.79"]
    assert codes.zero_padded(np.array([89, 0, 629]), 3) == ["089", "000", "629"]
    assert codes.with_thousands(np.array([89, 1234, 1234]), 3, np.array([True, True, False])) == ["089", "1 234", "1234"]
    assert codes.floats(np.array([559.0, 311.54])) == ["559.0", "311.54"]


def test_spaced_siren_as_banque_de_france_writes_it():
    assert codes.spaced_siren(["000111222"]) == ["000 111 222"]


def _luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def test_luhn_check_digit_makes_valid_sirens_and_sirets():
    bodies = np.array([73282932, 12345678, 0, 99999999])
    sirens = codes.zero_padded(bodies * 10 + codes.luhn_check_digit(bodies, 9), 9)
    assert all(_luhn_valid(s) for s in sirens)
    siret_bodies = np.array([7328293200001, 1234567800012])
    sirets = codes.zero_padded(siret_bodies * 10 + codes.luhn_check_digit(siret_bodies, 14), 14)
    assert all(_luhn_valid(s) for s in sirets)
