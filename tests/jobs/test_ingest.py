"""The ingest job: every row accounted for, refresh by batch, idempotent reruns, crash recovery,
file-level errors that stop nothing else."""
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import delta_io, ingest, session

CONTRIBUTIONS_HEADER = "Urssaf_gestion;Dep;Siret;Compte;periode;mer;enc_direct;cotis_due"
DEBTS_HEADER = ("Urssaf_gestion;Dep;num_cpte;Siren;Siret;Dt_immat;Etat_cpte;Cd_pro_col;Periode;Num_Ecn;Num_Hist_Ecn;"
                "Dt_trt_ecn;Mt_PO;Mt_PP;Cd_op_ecn;Motif_ecn;Recours_en_cours")
DEBT = "939;27;111982477292496174;000000000;00000000000000;20150708;5;0;201712;659;9;1190505;195907;864497;3;74;0"

DELIVERY = {
    "1902": {
        "sigfaible_cotisdues.csv": "\n".join([
            CONTRIBUTIONS_HEADER,
            "671;14;11111111111111;636043216536562844;1031;5;-68231;-21099",
            "779;96;00000000000000;111982477292496174;1910;9;4;4",
            "845;30;2222222222222X;450359886246036238;0232;6;-77244;-47022",      # bad SIRET
        ]).encode(),
        "sigfaible_debits.csv": "\n".join([DEBTS_HEADER, DEBT, "238;72;636043216536562844;111111", DEBT]).encode(),
    },
    "1903": {
        # Latin-1, as URSSAF files may be: the account holds an accented letter.
        "sigfaible_cotisdues.csv": "\n".join([
            CONTRIBUTIONS_HEADER,
            "671;14;11111111111111;compte-é;1911;5;10;20",
            "671;14;11111111111111;636043216536562844;1957;5;10;20",              # month 19
        ]).encode("latin-1"),
        "sigfaible_debits.csv": f"{DEBTS_HEADER}\n".encode(),                   # header only
    },
}
TABLES = ("bronze/contributions", "bronze/debts", "quarantine", "ingest_log")


def write_delivery(raw, delivery):
    for batch, files in delivery.items():
        (raw / batch).mkdir(parents=True)
        for name, data in files.items():
            (raw / batch / name).write_bytes(data)


@pytest.fixture
def job(spark, monkeypatch):
    """Run the job's main on the test session."""
    monkeypatch.setattr(session, "build_session", lambda conf, app_name=None: spark)

    def run(raw, lake, *extra):
        return ingest.main(["--raw-dir", str(raw), "--lake-dir", str(lake), *extra])

    return run


@pytest.fixture(scope="module")
def clean_lake(spark, tmp_path_factory):
    """A delivery of two batches ingested by one clean run."""
    root = tmp_path_factory.mktemp("clean")
    write_delivery(root / "raw", DELIVERY)
    lake = root / "lake"
    original = session.build_session
    session.build_session = lambda conf, app_name=None: spark
    try:
        assert ingest.main(["--raw-dir", str(root / "raw"), "--lake-dir", str(lake)]) == 0
    finally:
        session.build_session = original
    return root / "raw", lake


def table(spark, lake, name):
    df = delta_io.read(spark, lake / name)
    return df.drop("ingested_at") if name == "ingest_log" else df


def versions(spark, lake):
    return {name: delta_io.current_version(spark, lake / name) for name in TABLES}


def test_every_row_is_loaded_or_quarantined_with_lineage(spark, clean_lake):
    _, lake = clean_lake
    log = {(r.batch, r.file): r for r in table(spark, lake, "ingest_log").collect()}
    assert {k: (r.rows_read, r.rows_loaded, r.rows_quarantined) for k, r in log.items()} == {
        ("1902", "sigfaible_cotisdues.csv"): (3, 2, 1),
        ("1902", "sigfaible_debits.csv"): (3, 2, 1),
        ("1903", "sigfaible_cotisdues.csv"): (2, 1, 1),
        ("1903", "sigfaible_debits.csv"): (0, 0, 0),
    }
    # The log agrees with the tables: loaded rows are in bronze, the others in quarantine.
    for source in ("contributions", "debts"):
        loaded = table(spark, lake, f"bronze/{source}").groupBy("_batch", "_file").count().collect()
        assert {(r._batch, r._file): r["count"] for r in loaded} == {
            k: r.rows_loaded for k, r in log.items() if r.source == source and r.rows_loaded
        }
    quarantined = table(spark, lake, "quarantine").groupBy("batch", "file").count().collect()
    assert {(r.batch, r.file): r["count"] for r in quarantined} == {
        k: r.rows_quarantined for k, r in log.items() if r.rows_quarantined
    }
    latin1 = table(spark, lake, "bronze/contributions").where(F.col("_batch") == "1903").first()
    assert (latin1.account, latin1._line, latin1.period_start.isoformat()) == ("compte-é", 2, "2019-01-01")
    reasons = {(r.batch, r.line): r.reason for r in table(spark, lake, "quarantine").collect()}
    assert reasons[("1902", 4)] == "Siret: '2222222222222X' is not a SIRET (14 digits)"
    assert reasons[("1902", 3)] == "4 fields where the header has 17"
    assert reasons[("1903", 3)].startswith("periode: '1957' is not a URSSAF period code")
    assert delta_io.read(spark, lake / "bronze/debts").inputFiles()  # written, partitioned by batch
    assert all("/_batch=" in f for f in delta_io.read(spark, lake / "bronze/debts").inputFiles())


def test_second_run_is_a_no_op_and_a_batch_rerun_replaces_it(spark, clean_lake, job, tmp_path):
    raw, lake = clean_lake
    before = versions(spark, lake)
    contents = {name: table(spark, lake, name).cache() for name in TABLES}
    assert job(raw, lake) == 0
    assert versions(spark, lake) == before
    assert job(raw, lake, "--batch", "1902") == 0
    assert all(v > before[name] for name, v in versions(spark, lake).items())
    for name in TABLES:
        assert_df_equality(table(spark, lake, name), contents[name], ignore_row_order=True)
        contents[name].unpersist()


def test_a_crash_midway_leaves_tables_whole_and_the_rerun_converges(spark, clean_lake, job, tmp_path, monkeypatch):
    raw, clean = clean_lake
    lake = tmp_path / "lake"
    writes = []
    real_replace_where = delta_io.replace_where

    def crash_on_debts(df, path, predicate, partition_by=()):
        writes.append(path)
        if path == lake / "bronze/debts":  # while the other sources' tables are written
            raise RuntimeError("simulated crash")
        real_replace_where(df, path, predicate, partition_by)

    monkeypatch.setattr(delta_io, "replace_where", crash_on_debts)
    with pytest.raises(RuntimeError, match="simulated crash"):
        job(raw, lake)
    monkeypatch.setattr(delta_io, "replace_where", real_replace_where)
    assert not delta_io.table_exists(spark, lake / "ingest_log")  # no batch is marked done
    assert not delta_io.table_exists(spark, lake / "bronze/debts")
    assert delta_io.table_exists(spark, lake / "bronze/contributions")  # the crash came midway
    assert lake / "quarantine" not in writes  # written after every bronze table

    assert job(raw, lake) == 0
    for name in TABLES:
        assert_df_equality(table(spark, lake, name), table(spark, clean, name), ignore_row_order=True)


def test_unknown_file_and_missing_column_are_reported_and_the_rest_loads(spark, job, tmp_path):
    bad_debts = DEBTS_HEADER.replace("Siret;", "") + "\n" + DEBT.replace("00000000000000;", "", 1)
    write_delivery(tmp_path / "raw", {"1902": {
        "sigfaible_cotisdues.csv": DELIVERY["1902"]["sigfaible_cotisdues.csv"],
        "sigfaible_debits.csv": bad_debts.encode(),
        "notes.txt": b"not an extract",
    }})
    lake = tmp_path / "lake"
    with pytest.raises(ingest.IngestError) as error:
        job(tmp_path / "raw", lake)
    assert "2 file(s) not loaded" in str(error.value)
    assert "1902/notes.txt" in str(error.value)
    assert table(spark, lake, "bronze/contributions").count() == 2
    quarantined = table(spark, lake, "quarantine").where(F.col("source") == "debts").collect()
    assert [(q.line, q.reason) for q in quarantined] == [
        (2, "file not loaded: header lacks required column(s) Siret")
    ]
    logged = {(r.file, r.rows_read, r.rows_loaded) for r in table(spark, lake, "ingest_log").collect()}
    assert logged == {("sigfaible_cotisdues.csv", 3, 2), ("sigfaible_debits.csv", 1, 0)}


def test_an_empty_file_is_reported_like_a_bad_header(spark, job, tmp_path):
    write_delivery(tmp_path / "raw", {"1902": {
        "sigfaible_cotisdues.csv": DELIVERY["1902"]["sigfaible_cotisdues.csv"],
        "sigfaible_debits.csv": b"",  # a truncated transfer: not even a header
    }})
    lake = tmp_path / "lake"
    with pytest.raises(ingest.IngestError) as error:
        job(tmp_path / "raw", lake)
    assert "1 file(s) not loaded, first: 1902/sigfaible_debits.csv: file not loaded: the file is empty" in str(error.value)
    assert table(spark, lake, "bronze/contributions").count() == 2
    logged = {(r.file, r.rows_read, r.rows_loaded) for r in table(spark, lake, "ingest_log").collect()}
    assert logged == {("sigfaible_cotisdues.csv", 3, 2), ("sigfaible_debits.csv", 0, 0)}


def test_bronze_tables_are_written_with_their_source_schema(spark, clean_lake):
    from ingestion.registry import SOURCES

    _, lake = clean_lake
    for source in (s for s in SOURCES if s.name in ("contributions", "debts")):
        written = table(spark, lake, f"bronze/{source.name}").schema
        declared = spark.createDataFrame([], source.bronze_ddl).schema
        assert [(f.name, f.dataType) for f in written] == [(f.name, f.dataType) for f in declared]
