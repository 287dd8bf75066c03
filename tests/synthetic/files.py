"""Read generated files back, as plain rows of text fields, for the generator's tests."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pandas as pd

from synthetic.codes import EN_MONTHS, FR_MONTHS
from synthetic.extracts import SPEC_BY_SOURCE, FileSpec


def read_lines(path: Path, spec: FileSpec) -> list[str]:
    """The data lines of a file (header excluded), decoded with the file's encoding.

    In UTF-8 files a line that is not valid UTF-8 (a Latin-1 name) is decoded as Latin-1.
    """
    lines = []
    for raw in path.read_bytes().split(spec.line_end.encode())[1:-1]:
        try:
            lines.append(raw.decode(spec.encoding))
        except UnicodeDecodeError:
            lines.append(raw.decode("latin-1"))
    return lines


def header(path: Path, spec: FileSpec) -> list[str]:
    """The header's column names."""
    first = path.read_bytes().split(spec.line_end.encode())[0].decode(spec.encoding)
    return next(csv.reader([first], delimiter=spec.delimiter))


def read_rows(path: Path, spec: FileSpec) -> list[list[str]]:
    """Every data line split into fields (quotes removed), well-formed or not."""
    text = spec.line_end.join(read_lines(path, spec))
    return list(csv.reader(io.StringIO(text), delimiter=spec.delimiter)) if text else []


def source_files(raw: Path, source: str) -> list[tuple[str, Path]]:
    """(batch, path) of a source's file in every batch folder, oldest first."""
    name = SPEC_BY_SOURCE[source].file_name
    return [(folder.name, folder / name) for folder in sorted(raw.iterdir())]


def clean_records(raw: Path, source: str) -> list[tuple[str, dict[str, str]]]:
    """(batch, record by column name) for the rows with the header's number of fields."""
    spec = SPEC_BY_SOURCE[source]
    records = []
    for batch, path in source_files(raw, source):
        names = header(path, spec)
        records.extend((batch, dict(zip(names, row))) for row in read_rows(path, spec) if len(row) == len(names))
    return records


def _month_name_date(text: str, months: list[str]) -> dt.date:
    match = re.fullmatch(r"(\d{2})([A-Z]{3})(\d{4})", text)
    if not match or match.group(2) not in months:
        raise ValueError(text)
    return dt.date(int(match.group(3)), months.index(match.group(2)) + 1, int(match.group(1)))


def _urssaf_date(text: str) -> dt.date:
    if not re.fullmatch(r"\d{6,7}", text):
        raise ValueError(text)
    return dt.date(1900 + int(text[:-4]), int(text[-4:-2]), int(text[-2:]))


def parse_period(text: str) -> dt.date:
    """First month of a URSSAF period code `YYQM` or `YYYYQM` (a quarter when M is 0)."""
    if not re.fullmatch(r"\d{4}|\d{6}", text):
        raise ValueError(text)
    year = int(text[:-2]) + (2000 if len(text) == 4 else 0)
    quarter, month = int(text[-2]), int(text[-1])
    if not (1 <= quarter <= 4 and 0 <= month <= 3):
        raise ValueError(text)
    return dt.date(year, 3 * (quarter - 1) + max(month, 1), 1)


DATE_PARSERS = {
    "iso": dt.date.fromisoformat,
    "slash": lambda text: dt.datetime.strptime(text, "%d/%m/%Y").date(),
    "urssaf": _urssaf_date,
    "english": lambda text: _month_name_date(text, EN_MONTHS),
    "french": lambda text: _month_name_date(text, FR_MONTHS),
    "period": parse_period,
}


def parse_date(text: str, date_format: str) -> dt.date:
    """A date in one of the extracts' formats (names as in FileSpec.date_format); ValueError if invalid."""
    return DATE_PARSERS[date_format](text)


def is_valid_date(text: str, date_format: str) -> bool:
    try:
        parse_date(text, date_format)
        return True
    except ValueError:
        return False


def is_valid_key(text: str, column: str) -> bool:
    """A SIRET (14 digits), SIREN (9 digits) or spaced SIREN (`000 111 222`), by the column's name."""
    if column == "D1":
        return re.fullmatch(r"\d{3} \d{3} \d{3}", text) is not None
    return re.fullmatch(r"\d{14}" if "siret" in column.lower() else r"\d{9}", text) is not None


def is_number(text: str) -> bool:
    """A number as the extracts write them: digits, optional decimal point or comma, optional sign."""
    return re.fullmatch(r"-?\d+([.,]\d+)?|\d{1,3}( \d{3})+", text) is not None


def frame(raw: Path, source: str) -> pd.DataFrame:
    """Every batch's file of a source as text columns plus `batch`; malformed lines are skipped."""
    spec = SPEC_BY_SOURCE[source]
    frames = [pd.read_csv(path, sep=spec.delimiter, dtype=str, keep_default_na=False, encoding=spec.encoding,
                          encoding_errors="replace", on_bad_lines="skip", engine="c").assign(batch=batch)
              for batch, path in source_files(raw, source)]
    return pd.concat(frames, ignore_index=True)
