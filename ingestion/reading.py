"""Reading an extract: physical lines with their real line numbers, decoding, splitting, validation.

A source (`Source`) declares its file name, delimiter, quoting and fields; `parse_lines` turns its
data lines into typed columns and a `_reason` (null for a good row), in one pass, from which
`bronze_rows` and `quarantine_rows` take the two outputs. Columns are looked up by header name in
each file, so column order may differ between deliveries.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from ingestion.fields import blank_to_null, parse_text

LINEAGE = ("_batch", "_file", "_line")
LINEAGE_DDL = "_batch string, _file string, _line long"
QUARANTINE_DDL = "source string, batch string, file string, line long, raw string, reason string"
ENCODINGS = ("auto", "utf-8", "latin-1")

Rule = Callable[[Column], Column]


@dataclass(frozen=True)
class Field:
    """One source column read into one typed column.

    `parse` returns null for text it cannot read; the row is then quarantined with the reason
    "<column>: '<text>' is not <expects>". A `required` field must not be blank.
    """

    name: str
    column: str
    parse: Rule = parse_text
    expects: str = "text"
    required: bool = False


@dataclass(frozen=True)
class Melt:
    """Wide columns (one per month) unpivoted to rows: blank cells are not rows.

    `key` reads the column name (null when the name is not a valid key: a header error) and
    `value` reads the cell; `key_expects` and `value_expects` describe readable ones for reasons.
    """

    pattern: str
    key_name: str
    key: Rule
    key_expects: str
    value_name: str
    value: Rule
    value_expects: str


@dataclass(frozen=True)
class Source:
    """An extract: how its files are named and written, and the bronze table it becomes.

    `columns` is the bronze schema (DDL, without lineage); `derive` builds those columns from the
    typed fields of good rows.
    """

    name: str
    file_pattern: str
    delimiter: str
    quoted: bool
    fields: tuple[Field, ...]
    columns: str
    derive: Callable[[DataFrame], DataFrame] | None = None
    melt: Melt | None = None

    def matches(self, file_name: str) -> bool:
        """True when a file of this name is an extract of this source."""
        return re.fullmatch(self.file_pattern, file_name) is not None

    @property
    def required_columns(self) -> list[str]:
        """Header names every file of this source must have (each field's column, once)."""
        return list(dict.fromkeys(f.column for f in self.fields))

    @property
    def bronze_ddl(self) -> str:
        """The bronze table's schema as DDL, lineage included."""
        return f"{self.columns}, {LINEAGE_DDL}"


def _columns_of(ddl: str) -> list[tuple[str, str]]:
    """(name, type) pairs of a flat DDL string `a string, b date`."""
    return [tuple(part.strip().split(" ", 1)) for part in ddl.split(",")]


def decode_text(value: Column, encoding: str) -> Column:
    """Text of a line read as raw bytes (Spark's text reader keeps them as they are).

    `auto` decodes each line as UTF-8 when it is valid UTF-8 and as Latin-1 otherwise (every byte
    is valid Latin-1); `utf-8` keeps invalid bytes visible as U+FFFD (see `decode_error`).
    """
    latin1 = F.decode(value.cast("binary"), "ISO-8859-1")
    if encoding == "auto":
        return F.when(F.is_valid_utf8(value), value).otherwise(latin1)
    if encoding == "latin-1":
        return latin1
    if encoding == "utf-8":
        return F.make_valid_utf8(value)
    raise ValueError(f"unknown encoding {encoding!r}: expected one of {', '.join(ENCODINGS)}")


def decode_error(value: Column, encoding: str) -> Column:
    """The reason a line cannot be decoded in `encoding`, or null."""
    if encoding != "utf-8":
        return F.lit(None).cast("string")
    return F.when(
        ~F.is_valid_utf8(value),
        F.lit("line is not valid UTF-8 (if the file is Latin-1, set its encoding in conf ingest.encodings)"),
    )


def number_lines(lines: DataFrame) -> DataFrame:
    """Physical 1-based line numbers of lines read by Spark's text reader, split by split.

    `lines` has `_path`, `_block` (byte offset of the file split the line was read from), `_id`
    (`monotonically_increasing_id`, consecutive within a split) and `value`. A line's number is the
    count of lines in the earlier splits of its file plus its rank in its split. Returns `lines` with
    `_line`, and `_batch` and `_file` (the parent folder and name in `_path`).
    """
    splits = lines.groupBy("_path", "_block").agg(F.count(F.lit(1)).alias("_count"), F.min("_id").alias("_first_id"))
    by_offset = Window.partitionBy("_path").orderBy("_block")
    before = F.sum("_count").over(by_offset.rowsBetween(Window.unboundedPreceding, -1))
    # Spark gives the path URL-encoded (`%20` for a space); `+` is literal there.
    parts = F.split(F.url_decode(F.regexp_replace("_path", "\\+", "%2B")), "/")
    splits = splits.select(
        "_path", "_block", "_first_id",
        F.coalesce(before, F.lit(0)).alias("_before"),
        F.element_at(parts, -2).alias("_batch"),
        F.element_at(parts, -1).alias("_file"),
    )
    return lines.join(F.broadcast(splits), ["_path", "_block"]).select(
        *lines.columns, "_batch", "_file",
        (F.col("_before") + F.col("_id") - F.col("_first_id") + 1).alias("_line"),
    )


def read_lines(spark: SparkSession, paths: Sequence[str], encoding: str) -> DataFrame:
    """Every physical line of the files at `paths` (batch folder/file), decoded.

    Returns `_batch` (the parent folder), `_file`, `_line`, `_text` and `_read_error` (the reason
    a line could not be decoded, or null).
    """
    raw = spark.read.text(list(paths)).select(
        F.col("_metadata.file_path").alias("_path"),
        F.col("_metadata.file_block_start").alias("_block"),
        F.monotonically_increasing_id().alias("_id"),
        "value",
    )
    return number_lines(raw).select(
        *LINEAGE,
        decode_text(F.col("value"), encoding).alias("_text"),
        decode_error(F.col("value"), encoding).alias("_read_error"),
    )


def split_fields(text: Column, delimiter: str, quoted: bool) -> Column:
    """The fields of a line as `array<string>`.

    Quoted files may enclose a field in double quotes (then it may hold the delimiter, and `""` is
    a quote); in unquoted files a quote is an ordinary character.
    """
    d = re.escape(delimiter)
    if not quoted:
        return F.split(text, d, -1)
    # Prefixing the delimiter makes every field "delimiter + content", so empty fields match too.
    tokens = F.regexp_extract_all(F.concat(F.lit(delimiter), text), F.lit(f'{d}("(?:[^"]|"")*"|[^{d}]*)'), F.lit(1))
    return F.transform(
        tokens,
        lambda t: F.when(
            t.rlike('^".*"$'), F.replace(t.substr(F.lit(2), F.length(t) - 2), F.lit('""'), F.lit('"'))
        ).otherwise(t),
    )


def _field_reason(field: Field, text: Column, value: Column) -> Column:
    unreadable = F.concat(F.lit(f"{field.column}: '"), text, F.lit(f"' is not {field.expects}"))
    reason = F.when(text.isNotNull() & value.isNull(), unreadable)
    if field.required:
        reason = F.when(text.isNull(), F.lit(f"missing {field.column}")).otherwise(reason)
    return reason


def _wide_columns(melt: Melt, header: Column) -> Column:
    """The wide columns of a header: `array<struct<name, pos (0-based), key>>`."""
    positions = F.sequence(F.lit(0), F.size(header) - 1)
    indexed = F.transform(positions, lambda i: F.struct(F.get(header, i).alias("name"), i.alias("pos")))
    wide = F.filter(indexed, lambda c: c["name"].rlike(melt.pattern))
    return F.transform(wide, lambda c: F.struct(c["name"], c["pos"], melt.key(c["name"]).alias("key")))


def _header_error(source: Source, header: Column) -> Column:
    """The reason a file's header makes every line unreadable (missing column), or null."""
    missing = F.array_except(F.array(*[F.lit(c) for c in source.required_columns]), header)
    error = F.when(
        F.size(missing) > 0,
        F.concat(F.lit("file not loaded: header lacks required column(s) "), F.array_join(missing, ", ")),
    )
    if source.melt:
        wide = _wide_columns(source.melt, header)
        bad = F.try_element_at(F.filter(wide, lambda c: c["key"].isNull()), F.lit(1))
        error = error.when(
            F.size(wide) == 0, F.lit(f"file not loaded: header has no column matching {source.melt.pattern}")
        ).when(bad.isNotNull(), F.concat(
            F.lit("file not loaded: header column "), bad["name"], F.lit(f" is not {source.melt.key_expects}")
        ))
    return error


def parse_header(lines: DataFrame, source: Source) -> DataFrame:
    """Per file, what its header (line 1) tells: `_header_size`, each column's 0-based position
    (`_pos_<column>`, null when absent), `_wide` cells for wide sources, and `_file_error`.

    Computed once per file, not per line."""
    header = F.transform(
        split_fields(F.col("_text"), source.delimiter, source.quoted),
        lambda h: F.trim(F.regexp_replace(h, "^\ufeff", "")),
    )
    headers = lines.where(F.col("_line") == 1).select("_batch", "_file", header.alias("_header"))
    positions = {_position_column(c): F.array_position("_header", F.lit(c)) - 1 for c in source.required_columns}
    columns = {
        "_header_size": F.size("_header"),
        **{name: F.when(pos >= 0, pos) for name, pos in positions.items()},
        "_file_error": _header_error(source, F.col("_header")),
    }
    if source.melt:
        columns["_wide"] = _wide_columns(source.melt, F.col("_header"))
    return headers.withColumns(columns).drop("_header")


def parse_lines(lines: DataFrame, source: Source) -> DataFrame:
    """Data lines of `source` typed, each with the reason it cannot be loaded (null when it can).

    `lines` has `_batch, _file, _line, _text, _read_error` (as `read_lines` returns); line 1 is the
    header, blank lines are not data. Returns one row per data line: lineage, `_text`, one column
    per field, `_fields` and `_wide` for wide sources, `_file_error` (a header error that keeps
    the whole file out) and `_reason`.
    """
    data = (
        lines.where((F.col("_line") > 1) & (F.trim("_text") != ""))
        .join(F.broadcast(parse_header(lines, source)), ["_batch", "_file"], "left")
        .withColumn("_fields", split_fields(F.col("_text"), source.delimiter, source.quoted))
    )
    # Three selects (texts, values, reasons) so each rule reads a plain column: nesting them in one
    # expression would repeat every text's lookup inside every rule and blow up generated code.
    texts = {
        _text_column(c): blank_to_null(F.get("_fields", F.col(_position_column(c)))) for c in source.required_columns
    }
    texts["_count_error"] = F.when(
        F.size("_fields") != F.col("_header_size"),
        F.format_string("%d fields where the header has %d", F.size("_fields"), F.col("_header_size")),
    )
    typed = data.withColumns(texts).withColumns({f.name: f.parse(F.col(_text_column(f.column))) for f in source.fields})
    reasons = [_field_reason(f, F.col(_text_column(f.column)), F.col(f.name)) for f in source.fields]
    if source.melt:
        reasons.append(_wide_reason(source.melt))
    field_reasons = F.concat_ws("; ", *reasons)
    reason = F.coalesce(
        F.col("_file_error"), F.col("_read_error"), F.col("_count_error"), F.when(field_reasons != "", field_reasons)
    )
    helpers = ["_read_error", "_count_error", "_header_size", *[_text_column(c) for c in source.required_columns],
               *[_position_column(c) for c in source.required_columns]]
    parsed = typed.withColumn("_reason", reason).drop(*helpers)
    return parsed if source.melt else parsed.drop("_fields")


def _wide_reason(melt: Melt) -> Column:
    """The reason a wide line cannot be loaded: its first unreadable cell, or null."""
    def text(cell: Column) -> Column:
        return blank_to_null(F.get("_fields", cell["pos"]))

    def unreadable(cell: Column) -> Column:
        return text(cell).isNotNull() & melt.value(text(cell)).isNull()

    # The search for the bad cell only runs on lines that have one (CASE evaluates lazily).
    bad = F.try_element_at(F.filter("_wide", unreadable), F.lit(1))
    return F.when(F.exists("_wide", unreadable), F.concat(
        bad["name"], F.lit(": '"), text(bad), F.lit(f"' is not {melt.value_expects}")
    ))


def _text_column(column: str) -> str:
    return f"_text_{column}"


def _position_column(column: str) -> str:
    return f"_pos_{column}"


def bronze_rows(parsed: DataFrame, source: Source) -> DataFrame:
    """The good rows of `parsed` in the bronze schema of `source` (wide sources: one row per
    non-blank cell), lineage last."""
    good = parsed.where(F.col("_reason").isNull())
    if source.melt:
        melt = source.melt
        text = blank_to_null(F.get("_fields", F.col("_cell.pos")))
        good = (
            good.select("*", F.explode("_wide").alias("_cell"))
            .withColumn("_cell_text", text)
            .where(F.col("_cell_text").isNotNull())
            .withColumns({melt.key_name: F.col("_cell.key"), melt.value_name: melt.value(F.col("_cell_text"))})
        )
    if source.derive:
        good = source.derive(good)
    return good.select(*[F.col(name).cast(kind).alias(name) for name, kind in _columns_of(source.bronze_ddl)])


def quarantine_rows(parsed: DataFrame, source_name: str) -> DataFrame:
    """The rows of `parsed` that cannot be loaded, as quarantine rows (source, batch, file, line,
    raw text, reason)."""
    return parsed.where(F.col("_reason").isNotNull()).select(
        F.lit(source_name).alias("source"),
        F.col("_batch").alias("batch"),
        F.col("_file").alias("file"),
        F.col("_line").cast("long").alias("line"),
        F.col("_text").alias("raw"),
        F.col("_reason").alias("reason"),
    )


def file_counts(parsed: DataFrame) -> DataFrame:
    """Per file (`_batch`, `_file`): data lines read, loaded and quarantined, and the header error
    that kept the file from loading (null when none)."""
    good = F.col("_reason").isNull()
    return parsed.groupBy("_batch", "_file").agg(
        F.count(F.lit(1)).alias("rows_read"),
        F.count(F.when(good, 1)).alias("rows_loaded"),
        F.count(F.when(~good, 1)).alias("rows_quarantined"),
        F.first("_file_error", ignorenulls=True).alias("file_error"),
    )
