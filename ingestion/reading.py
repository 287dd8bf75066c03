"""Reading an extract: physical lines with their real line numbers, decoding, splitting, validation.

A source (`Source`) declares its file name, delimiter, quoting and fields; `parse_lines` turns its
data lines into typed columns and a `_reason` (null for a good row), in one pass, from which
`bronze_rows` and `quarantine_rows` take the two outputs. Columns are looked up by header name in
each file, so column order may differ between deliveries.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Callable, Sequence

from pyspark.sql import Column, DataFrame, Observation, Row, SparkSession
from pyspark.sql import functions as F

from ingestion.fields import blank_to_null, parse_text, plainly

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


def text_lines(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    """Spark's text reader on `paths`: `value` (a line's bytes, undecoded), `_path` and `_block`
    (the byte offset of the file split the line was read from)."""
    return spark.read.text(list(paths)).select(
        "value", F.col("_metadata.file_path").alias("_path"), F.col("_metadata.file_block_start").alias("_block"),
    )


def file_splits(text: DataFrame) -> DataFrame:
    """Per file split of `text` (`text_lines`): `_path`, `_block`, `_count` (its lines),
    `_first_id` (the `monotonically_increasing_id` of its first line, the ids being consecutive
    within a split), `_first_value` (that line's bytes: the header in block 0), and `_batch` and
    `_file`, the parent folder and name in `_path`."""
    # Spark gives the path URL-encoded (`%20` for a space); `+` is literal there.
    parts = F.split(F.url_decode(F.regexp_replace("_path", "\\+", "%2B")), "/")
    return (
        text.withColumn("_id", F.monotonically_increasing_id())
        .groupBy("_path", "_block")
        .agg(
            F.count(F.lit(1)).alias("_count"),
            F.min("_id").alias("_first_id"),
            F.min_by(F.col("value").cast("binary"), "_id").alias("_first_value"),
        )
        .withColumns({"_batch": F.element_at(parts, -2), "_file": F.element_at(parts, -1)})
    )


def number_lines(text: DataFrame, splits: Sequence[Row]) -> DataFrame:
    """`text` (`text_lines`) with `_line` (physical, 1-based), `_batch` and `_file`, from
    `splits`, the collected `file_splits` of the same files.

    A line's number is the count of lines in the earlier splits of its file plus its rank in its
    split. The splits are a table held in the plan (`local_rows`), joined by broadcast on the
    split a line was read from: a hash lookup per line, however many files a source has (constants
    in a CASE grew with the files and slowed the demo's 49-batch delivery several times). A line outside the
    counted splits (the files, or Spark's split settings, changed since the count) fails the query.
    """
    before, rows = {}, []
    for split in sorted(splits, key=lambda s: (s["_path"], s["_block"])):
        first_line = before.get(split["_path"], 0) + 1
        before[split["_path"]] = first_line - 1 + split["_count"]
        rows.append((split["_path"], split["_block"], first_line - split["_first_id"], split["_count"],
                     split["_batch"], split["_file"], first_line))
    columns = [("_path", "string"), ("_block", "bigint"), ("_offset", "bigint"), ("_count", "bigint"),
               ("_batch", "string"), ("_file", "string"), ("_first_line", "bigint")]
    table = F.broadcast(local_rows(text.sparkSession, rows, columns))
    numbered = text.select("_path", "_block", "value", F.monotonically_increasing_id().alias("_id"))
    joined = numbered.join(table, ["_path", "_block"], "left")
    line = F.col("_id") + F.col("_offset")
    rank = line - F.col("_first_line")
    counted = F.col("_offset").isNotNull() & (rank >= 0) & (rank < F.col("_count"))
    changed = F.raise_error(F.lit("line numbers: the files or their splits changed since their lines were counted"))
    return joined.select(
        F.when(counted, F.col("_batch")).otherwise(changed).alias("_batch"), "_file", line.alias("_line"), "value",
    )


def local_rows(spark: SparkSession, rows: Sequence[tuple], columns: Sequence[tuple[str, str]]) -> DataFrame:
    """`rows` as a DataFrame held in the plan (a LocalRelation, from SQL VALUES): queries read it
    without a Spark job and filter it while planned, unlike `createDataFrame`, whose rows go to an
    RDD. `columns` are (name, type) pairs of types string, binary or bigint."""
    def literal(value: object, kind: str) -> str:
        if value is None:
            return f"CAST(NULL AS {kind})"
        if kind == "bigint":
            return f"CAST({int(value)} AS BIGINT)"
        data = bytes(value) if kind == "binary" else str(value).encode("utf-8")
        return f"CAST(X'{data.hex()}' AS {kind})"  # hexadecimal: no escaping to get wrong

    names = ", ".join(name for name, _ in columns)
    if not rows:
        return spark.createDataFrame([], ", ".join(f"{name} {kind}" for name, kind in columns))
    values = ", ".join("(" + ", ".join(literal(v, kind) for v, (_, kind) in zip(row, columns)) + ")" for row in rows)
    return spark.sql(f"SELECT * FROM VALUES {values} AS rows({names})")


def read_lines(spark: SparkSession, paths: Sequence[str], encoding: str) -> DataFrame:
    """Every physical line of the files at `paths` (batch folder/file), decoded.

    Returns `_batch` (the parent folder), `_file`, `_line`, `_text` and `_read_error` (the reason
    a line could not be decoded, or null). Runs one Spark job, which counts each file split's lines
    and takes each file's header (line 1); each query of the frame then reads the other lines
    once.
    """
    text = text_lines(spark, paths)
    splits = file_splits(text).collect()
    headers = local_rows(
        spark, [(s["_batch"], s["_file"], 1, s["_first_value"]) for s in splits if s["_block"] == 0],
        [("_batch", "string"), ("_file", "string"), ("_line", "bigint"), ("value", "binary")],
    ).withColumn("value", F.col("value").cast("string"))
    data = number_lines(text, splits).where(F.col("_line") > 1).select(*LINEAGE, "value")
    return headers.unionByName(data).select(
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
    general = F.transform(
        tokens,
        lambda t: F.when(
            t.rlike('^".*"$'), F.replace(t.substr(F.lit(2), F.length(t) - 2), F.lit('""'), F.lit('"'))
        ).otherwise(t),
    )
    # Where quotes only enclose whole fields free of quotes and delimiters, dropping them is the
    # split: no regex per field, no lambda. Line terminators inside quotes fail the general
    # rule's `.` (the field keeps its quotes), so they are not plain either.
    field = f'(?:"[^"{d}\\u0085\\u2028\\u2029]*+"|[^"{d}]*+)'
    return plainly(text, f"^{field}(?:{d}{field})*+\\z", F.split(F.replace(text, F.lit('"'), F.lit("")), d, -1), general)


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
    per field, `_cells` for wide sources (`_parse_cells`), `_file_error` (a header error that keeps
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
        typed = _parse_cells(typed, source.melt)
        reasons.append(_wide_reason(source.melt))
    field_reasons = F.concat_ws("; ", *reasons)
    reason = F.coalesce(
        F.col("_file_error"), F.col("_read_error"), F.col("_count_error"), F.when(field_reasons != "", field_reasons)
    )
    helpers = ["_read_error", "_count_error", "_header_size", *[_text_column(c) for c in source.required_columns],
               *[_position_column(c) for c in source.required_columns]]
    parsed = typed.withColumn("_reason", reason).drop(*helpers)
    # An observed metric ends the parse because Spark pushes no filter through one: pushed below
    # the projections that parse, a filter on `_reason` inlines every rule into itself (to parse
    # again above it) until the generated code outgrows the JVM's 64 KB limit on a method.
    parsed = parsed.observe(f"parsed lines {uuid.uuid4().hex}", F.count(F.lit(1)).alias("lines"))
    return parsed.drop("_fields")


def _parse_cells(lines: DataFrame, melt: Melt) -> DataFrame:
    """`lines` with `_cells`, each wide cell of a line read once: `array<struct<name, key, text,
    value>>` (`text` null when blank), for both its reason and its bronze rows; `_wide` dropped."""
    texts = F.transform("_wide", lambda cell: F.struct(
        cell["name"].alias("name"), cell["key"].alias("key"),
        blank_to_null(F.get("_fields", cell["pos"])).alias("text")))
    # Two steps, so that each value reads a plain text field rather than its whole lookup again.
    values = F.transform("_cells", lambda cell: cell.withField("value", melt.value(cell["text"])))
    return lines.withColumn("_cells", texts).withColumn("_cells", values).drop("_wide")


def _wide_reason(melt: Melt) -> Column:
    """The reason a wide line cannot be loaded: its first unreadable cell, or null."""
    def unreadable(cell: Column) -> Column:
        return cell["text"].isNotNull() & cell["value"].isNull()

    # The search for the bad cell only runs on lines that have one (CASE evaluates lazily).
    bad = F.try_element_at(F.filter("_cells", unreadable), F.lit(1))
    return F.when(F.exists("_cells", unreadable), F.concat(
        bad["name"], F.lit(": '"), bad["text"], F.lit(f"' is not {melt.value_expects}")
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
        good = (
            good.select("*", F.explode("_cells").alias("_cell"))
            .where(F.col("_cell.text").isNotNull())
            .withColumns({melt.key_name: F.col("_cell.key"), melt.value_name: F.col("_cell.value")})
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


def _count_columns(selected: Column) -> dict[str, Column]:
    """Aggregates over the `selected` rows of a parsed frame: data lines read, loaded and
    quarantined, and the header error that kept their file from loading (null when none)."""
    good = F.col("_reason").isNull()
    return {
        "rows_read": F.count_if(selected),
        "rows_loaded": F.count_if(selected & good),
        "rows_quarantined": F.count_if(selected & ~good),
        "file_error": F.max(F.when(selected, F.col("_file_error"))),
    }


def file_counts(parsed: DataFrame) -> DataFrame:
    """Per file (`_batch`, `_file`): data lines read, loaded and quarantined, and the header error
    that kept the file from loading (null when none)."""
    return parsed.groupBy("_batch", "_file").agg(*[c.alias(n) for n, c in _count_columns(F.lit(True)).items()])


def observe_file_counts(
    parsed: DataFrame, files: Sequence[tuple[str, str]]
) -> tuple[DataFrame, Callable[[], dict[tuple[str, str], dict]]]:
    """`parsed`, counting `file_counts`' figures for each of `files` (batch, file name) while its
    first query runs, and the function that returns them, by file, once that query is done.

    The counts come with the query that writes the rows, instead of a pass of their own.
    """
    observation = Observation()
    per_file = [
        _count_columns((F.col("_batch") == batch) & (F.col("_file") == name)) for batch, name in files
    ]
    observed = parsed.observe(observation, *[
        column.alias(f"{metric}_{i}") for i, columns in enumerate(per_file) for metric, column in columns.items()
    ])

    def counts() -> dict[tuple[str, str], dict]:
        metrics = observation.get
        return {
            file: {metric: metrics[f"{metric}_{i}"] for metric in per_file[i]} for i, file in enumerate(files)
        }

    return observed, counts
