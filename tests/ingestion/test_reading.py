"""Reading extracts: physical line numbers, decoding, splitting, typing and quarantine reasons."""
import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from ingestion.fields import A_NUMBER, A_SIRET, parse_decimal, parse_siret
from ingestion.sources.headcount import COMPANY
from ingestion.reading import (
    Field, Source, bronze_rows, file_counts, parse_lines, quarantine_rows, read_lines, split_fields,
)

LINES_DDL = "_batch string, _file string, _line long, _text string, _read_error string"

TOY = Source(
    name="toy",
    file_pattern=r"toy\.csv",
    delimiter=";",
    quoted=False,
    fields=(
        Field("siret", "Siret", parse_siret, A_SIRET, required=True),
        Field("amount", "Montant", parse_decimal, A_NUMBER),
    ),
    columns="siret string, amount double",
)


def lines_of(spark, header, texts, file="toy.csv"):
    """A `read_lines`-shaped frame: the header on line 1, then `texts` on lines 2, 3..."""
    rows = [("2401", file, 1, header, None)]
    rows += [("2401", file, i + 2, text, None) for i, text in enumerate(texts)]
    return spark.createDataFrame(rows, LINES_DDL)


def test_split_fields_unquoted_and_quoted(spark):
    df = spark.createDataFrame([
        ('a;b;;"c', ';', False, ["a", "b", "", '"c']),
        ('"x,y",2,,"say ""hi""",', ',', True, ["x,y", "2", "", 'say "hi"', ""]),
        ('"2019-01-01",2019-01-02,8', ',', True, ["2019-01-01", "2019-01-02", "8"]),
    ], "text string, delimiter string, quoted boolean, fields array<string>")
    for delimiter, quoted in ((";", False), (",", True)):
        expected = df.where((F.col("delimiter") == delimiter) & (F.col("quoted") == quoted))
        actual = expected.drop("fields").withColumn("fields", split_fields(F.col("text"), delimiter, quoted))
        assert_df_equality(actual, expected, ignore_nullable=True)


def test_line_numbers_are_physical_across_file_splits(spark, tmp_path):
    folder = tmp_path / "2401"
    folder.mkdir()
    # Each data line starts with its own line number; blank lines count as lines too.
    body = ["n;text"] + [("" if i % 97 == 0 else f"{i};{'x' * 30}") for i in range(2, 3001)]
    (folder / "big.csv").write_text("\n".join(body) + "\n")
    (folder / "small.csv").write_text("n;text\r\n2;a\r\n\r\n4;b\r\n")
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "8192")  # ~12 splits for big.csv
    try:
        assert spark.read.text(str(folder / "big.csv")).rdd.getNumPartitions() > 5
        lines = read_lines(spark, [str(folder / "big.csv"), str(folder / "small.csv")], "auto").cache()
        data = lines.where(F.col("_text") != "")
        wrong = data.where((F.col("_line") > 1) & (F.col("_line") != F.split("_text", ";")[0].cast("long")))
        assert wrong.count() == 0
        counts = {r["_file"]: r["count"] for r in lines.groupBy("_file").count().collect()}
        assert counts == {"big.csv": 3000, "small.csv": 4}
        assert {r["_text"] for r in lines.where(F.col("_line") == 1).collect()} == {"n;text"}
        assert {r["_batch"] for r in lines.select("_batch").distinct().collect()} == {"2401"}
        lines.unpersist()
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)


def test_decoding_auto_reads_both_encodings_and_utf8_flags_bad_bytes(spark, tmp_path):
    folder = tmp_path / "2401"
    folder.mkdir()
    path = folder / "names.csv"
    path.write_bytes("name\n".encode() + "SOCIÉTÉ A\n".encode("utf-8") + "SOCIÉTÉ B\n".encode("latin-1"))
    auto = read_lines(spark, [str(path)], "auto").where("_line > 1").orderBy("_line")
    assert [r["_text"] for r in auto.collect()] == ["SOCIÉTÉ A", "SOCIÉTÉ B"]
    latin1 = read_lines(spark, [str(path)], "latin-1").where("_line = 3")
    assert latin1.first()["_text"] == "SOCIÉTÉ B"
    utf8 = read_lines(spark, [str(path)], "utf-8").where("_line > 1").orderBy("_line").collect()
    assert utf8[0]["_read_error"] is None and utf8[0]["_text"] == "SOCIÉTÉ A"
    assert "not valid UTF-8" in utf8[1]["_read_error"]
    assert utf8[1]["_text"].startswith("SOCI")  # kept readable for the quarantine's raw text


def test_parse_lines_types_good_rows_and_quarantines_the_rest_with_reasons(spark):
    header = "Siret;Montant;Autre"
    lines = lines_of(spark, header, [
        "55210055400013;12,5;x",        # 2: good
        "",                             # 3: blank, not data
        "5521005540001X;1;x",           # 4: bad key
        ";3;x",                         # 5: missing key
        "55210055400013;N/A;x",         # 6: bad amount
        "55210055400013;1",             # 7: short line
        "5210055400013;;x",             # 8: good, padded key, blank amount
    ])
    parsed = parse_lines(lines, TOY).cache()
    expected_bronze = spark.createDataFrame([
        ("55210055400013", 12.5, "2401", "toy.csv", 2),
        ("05210055400013", None, "2401", "toy.csv", 8),
    ], TOY.bronze_ddl)
    assert_df_equality(bronze_rows(parsed, TOY), expected_bronze, ignore_nullable=True, ignore_row_order=True)
    expected_quarantine = spark.createDataFrame([
        ("toy", "2401", "toy.csv", 4, "5521005540001X;1;x", "Siret: '5521005540001X' is not a SIRET (14 digits)"),
        ("toy", "2401", "toy.csv", 5, ";3;x", "missing Siret"),
        ("toy", "2401", "toy.csv", 6, "55210055400013;N/A;x", "Montant: 'N/A' is not a number"),
        ("toy", "2401", "toy.csv", 7, "55210055400013;1", "2 fields where the header has 3"),
    ], "source string, batch string, file string, line long, raw string, reason string")
    assert_df_equality(quarantine_rows(parsed, "toy"), expected_quarantine, ignore_nullable=True,
                       ignore_row_order=True)
    counts = file_counts(parsed).collect()
    assert [(c.rows_read, c.rows_loaded, c.rows_quarantined, c.file_error) for c in counts] == [(6, 2, 4, None)]
    parsed.unpersist()


def test_a_missing_required_column_quarantines_the_whole_file_with_its_name(spark):
    lines = lines_of(spark, "Siren;Montant", ["552100554;1", "552100555;2"])
    parsed = parse_lines(lines, TOY)
    reasons = {r["reason"] for r in quarantine_rows(parsed, "toy").collect()}
    assert reasons == {"file not loaded: header lacks required column(s) Siret"}
    assert bronze_rows(parsed, TOY).count() == 0
    assert file_counts(parsed).first()["file_error"] == "file not loaded: header lacks required column(s) Siret"


def test_wide_headcount_unpivots_non_blank_cells_and_quarantines_bad_ones(spark):
    header = "siren;eff201011;eff201012;eff201013;rais_soc"
    lines = lines_of(spark, header, [
        "542368702;089;1 234;;abcde",       # blank March is not a row
        "542368703;12O5;3;4;fghij",         # one unreadable cell: the whole line is quarantined
    ], file="sigfaible_effectif_siren.csv")
    parsed = parse_lines(lines, COMPANY)
    expected = spark.createDataFrame([
        ("542368702", "abcde", dt.date(2010, 1, 1), 89, "2401", "sigfaible_effectif_siren.csv", 2),
        ("542368702", "abcde", dt.date(2010, 2, 1), 1234, "2401", "sigfaible_effectif_siren.csv", 2),
    ], COMPANY.bronze_ddl)
    assert_df_equality(bronze_rows(parsed, COMPANY), expected, ignore_nullable=True, ignore_row_order=True)
    quarantined = quarantine_rows(parsed, COMPANY.name).collect()
    assert [(q.line, q.reason) for q in quarantined] == [(3, "eff201011: '12O5' is not a headcount (whole number)")]


def test_wide_headcount_header_needs_month_columns(spark):
    lines = lines_of(spark, "siren;eff201610;rais_soc", ["542368702;5;abcde"], file="sigfaible_effectif_siren.csv")
    assert quarantine_rows(parse_lines(lines, COMPANY), COMPANY.name).first()["reason"] == (
        "file not loaded: header column eff201610 is not a one-month column effYYYYQM"
    )
