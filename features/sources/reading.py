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

from features.sources.fields import blank_to_null, parse_text

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
    `_line` and `_header_raw` (the file's line 1).
    """
    splits = lines.groupBy("_path", "_block").agg(
        F.count(F.lit(1)).alias("_count"),
        F.min("_id").alias("_first_id"),
        F.min_by("value", "_id").alias("_split_first"),
    )
    by_offset = Window.partitionBy("_path").orderBy("_block")
    before = F.sum("_count").over(by_offset.rowsBetween(Window.unboundedPreceding, -1))
    splits = splits.select(
        "_path", "_block", "_first_id",
        F.coalesce(before, F.lit(0)).alias("_before"),
        F.first("_split_first").over(by_offset).alias("_header_raw"),
    )
    return lines.join(F.broadcast(splits), ["_path", "_block"]).select(
        *lines.columns,
        (F.col("_before") + F.col("_id") - F.col("_first_id") + 1).alias("_line"),
        "_header_raw",
    )


def read_lines(spark: SparkSession, paths: Sequence[str], encoding: str) -> DataFrame:
    """Every physical line of the files at `paths` (batch folder/file), decoded.

    Returns `_batch` (the parent folder), `_file`, `_line`, `_text`, `_header_text` (the file's
    line 1) and `_read_error` (the reason a line could not be decoded, or null).
    """
    # Spark gives the path URL-encoded (`%20` for a space); `+` is literal there.
    path = F.url_decode(F.regexp_replace(F.col("_metadata.file_path"), "\\+", "%2B"))
    raw = spark.read.text(list(paths)).select(
        path.alias("_path"),
        F.col("_metadata.file_block_start").alias("_block"),
        F.monotonically_increasing_id().alias("_id"),
        "value",
    )
    parts = F.split("_path", "/")
    return number_lines(raw).select(
        F.element_at(parts, -2).alias("_batch"),
        F.element_at(parts, -1).alias("_file"),
        "_line",
        decode_text(F.col("value"), encoding).alias("_text"),
        decode_text(F.col("_header_raw"), encoding).alias("_header_text"),
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


def _melt_cells(melt: Melt, header: Column, fields: Column) -> Column:
    """The wide cells of a line: `array<struct<name, text, key, value>>`."""
    cells = F.filter(
        F.zip_with(header, fields, lambda n, t: F.struct(n.alias("name"), blank_to_null(t).alias("text"))),
        lambda c: c["name"].rlike(melt.pattern),
    )
    return F.transform(
        cells,
        lambda c: F.struct(
            c["name"].alias("name"), c["text"].alias("text"),
            melt.key(c["name"]).alias("key"), melt.value(c["text"]).alias("value"),
        ),
    )


def _header_error(source: Source, header: Column) -> Column:
    """The reason a file's header makes every line unreadable (missing column), or null."""
    missing = F.array_except(F.array(*[F.lit(c) for c in source.required_columns]), header)
    error = F.when(
        F.size(missing) > 0,
        F.concat(F.lit("file not loaded: header lacks required column(s) "), F.array_join(missing, ", ")),
    )
    if source.melt:
        melt = source.melt
        wide = F.filter(header, lambda h: h.rlike(melt.pattern))
        bad = F.filter(wide, lambda h: melt.key(h).isNull())
        error = (
            error.when(F.size(wide) == 0, F.lit(f"file not loaded: header has no column matching {melt.pattern}"))
            .when(F.size(bad) > 0, F.concat(
                F.lit("file not loaded: header column "), F.try_element_at(bad, F.lit(1)), F.lit(f" is not {melt.key_expects}")))
        )
    return error


def parse_lines(lines: DataFrame, source: Source) -> DataFrame:
    """Data lines of `source` typed, each with the reason it cannot be loaded (null when it can).

    `lines` has `_batch, _file, _line, _text, _header_text, _read_error` (as `read_lines` returns);
    line 1 (the header) and blank lines are not data. Returns one row per data line: lineage,
    `_text`, one column per field, `_cells` for wide sources, `_file_error` (a header error that
    keeps the whole file out) and `_reason`.
    """
    header = F.transform(
        split_fields(F.col("_header_text"), source.delimiter, source.quoted),
        lambda h: F.trim(F.regexp_replace(h, "^\ufeff", "")),
    )
    data = lines.where((F.col("_line") > 1) & (F.trim("_text") != "")).select(
        *LINEAGE, "_text", "_read_error",
        header.alias("_header"),
        split_fields(F.col("_text"), source.delimiter, source.quoted).alias("_fields"),
    )
    # Three selects (texts, values, reasons) so each rule reads a plain column: nesting them in one
    # expression would repeat every text's lookup inside every rule and blow up generated code.
    texts = {
        _text_column(c): blank_to_null(F.get(F.col("_fields"), F.array_position(F.col("_header"), F.lit(c)) - 1))
        for c in source.required_columns
    }
    if source.melt:
        texts["_cells"] = _melt_cells(source.melt, F.col("_header"), F.col("_fields"))
    texts["_file_error"] = _header_error(source, F.col("_header"))
    texts["_count_error"] = F.when(
        F.size("_fields") != F.size("_header"),
        F.format_string("%d fields where the header has %d", F.size("_fields"), F.size("_header")),
    )
    typed = data.withColumns(texts).drop("_fields", "_header").withColumns(
        {f.name: f.parse(F.col(_text_column(f.column))) for f in source.fields}
    )
    reasons = [_field_reason(f, F.col(_text_column(f.column)), F.col(f.name)) for f in source.fields]
    if source.melt:
        bad = F.try_element_at(F.filter("_cells", lambda c: c["text"].isNotNull() & c["value"].isNull()), F.lit(1))
        reasons.append(F.when(
            bad.isNotNull(),
            F.concat(bad["name"], F.lit(": '"), bad["text"], F.lit(f"' is not {source.melt.value_expects}")),
        ))
    field_reasons = F.concat_ws("; ", *reasons)
    reason = F.coalesce(
        F.col("_file_error"), F.col("_read_error"), F.col("_count_error"), F.when(field_reasons != "", field_reasons)
    )
    return typed.withColumn("_reason", reason).drop(
        "_read_error", "_count_error", *[_text_column(c) for c in source.required_columns]
    )


def _text_column(column: str) -> str:
    return f"_text_{column}"


def bronze_rows(parsed: DataFrame, source: Source) -> DataFrame:
    """The good rows of `parsed` in the bronze schema of `source` (wide sources: one row per
    non-blank cell), lineage last."""
    good = parsed.where(F.col("_reason").isNull())
    if source.melt:
        melt = source.melt
        cell = F.explode(F.filter("_cells", lambda c: c["text"].isNotNull())).alias("_cell")
        good = good.select("*", cell).withColumns(
            {melt.key_name: F.col("_cell.key"), melt.value_name: F.col("_cell.value")}
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
