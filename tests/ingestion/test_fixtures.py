"""The State's importer test data through our parsers, compared with its expected parsed values.

Fixtures: `tests/fixtures/signaux-faibles/opensignauxfaibles/` (expected values from its
`expected*.json` and `tests/output-snapshots/*.golden.txt`), compared field by field where the
meanings match.
"""
import datetime as dt
import json
from pathlib import Path

from ingestion.sources import (
    bdf, ccsf, contributions, debts, headcount, partial_activity, paydex, payment_plans, proceedings, sirene,
)
from ingestion.reading import bronze_rows, file_counts, parse_lines, quarantine_rows, read_lines
from jobs.config import PROJECT_ROOT

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "signaux-faibles" / "opensignauxfaibles"
URSSAF = FIXTURES / "lib" / "parsing" / "urssaf" / "testData"


def load(spark, path: Path, source, encoding="auto"):
    """(bronze rows sorted by line, quarantine rows, per-file counts) of one fixture file."""
    parsed = parse_lines(read_lines(spark, [str(path)], encoding), source).cache()
    good = sorted(bronze_rows(parsed, source).collect(), key=lambda r: r["_line"])
    bad = sorted(quarantine_rows(parsed, source.name).collect(), key=lambda r: r["line"])
    counts = file_counts(parsed).first()
    parsed.unpersist()
    assert counts.rows_read == counts.rows_loaded + counts.rows_quarantined
    return good, bad, counts


def expected(path: Path) -> list[dict]:
    return json.loads(path.read_text())["tuples"]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


def test_contributions(spark):
    good, bad, _ = load(spark, URSSAF / "cotisationTestData.csv", contributions.SOURCE)
    assert not bad
    for row, want in zip(good, expected(URSSAF / "expectedCotisation.json"), strict=True):
        assert row.account == want["numero_compte"]
        assert row.period_start == day(want["periode_debut"])
        assert row.period_months == 1  # periode_fin is one month after periode_debut
        assert (row.amount_paid, row.amount_due) == (want["encaisse"], want["du"])
    assert [r.siren for r in good] == ["111111111", "000000000", "222222222"]


def test_debts_and_the_corrupted_sample(spark):
    good, bad, _ = load(spark, URSSAF / "debitTestData.csv", debts.SOURCE)
    assert not bad
    for row, want in zip(good, expected(URSSAF / "expectedDebit.json"), strict=True):
        assert row.account == want["numero_compte"]
        assert row.debt_number == want["numero_ecart_negatif"]
        assert row.processing_date == day(want["date_traitement"])
        assert (row.amount_employee, row.amount_employer) == (want["part_ouvriere"], want["part_patronale"])
        assert row.history_number == want["numero_historique"]
        assert row.account_state == want["etat_compte"]
        assert row.proceeding_code == want["code_procedure_collective"]
        assert row.period_start == day(want["periode_debut"]) and row.period_months == 1
        assert row.operation_code == want["code_operation_ecart_negatif"]
        assert row.reason_code == want["code_motif_ecart_negatif"]
        assert row.appeal_pending == want["recours_en_cours"]
    # The corrupted sample: the good lines 2, 4 and 6 load; the truncated line 3 and the stray
    # `654",` on line 5 are quarantined.
    good, bad, counts = load(spark, URSSAF / "debitCorrompuTestData.csv", debts.SOURCE)
    assert [r._line for r in good] == [2, 4, 6]
    assert [(q.line, q.reason) for q in bad] == [
        (3, "4 fields where the header has 17"), (5, "1 fields where the header has 17"),
    ]
    assert (counts.rows_read, counts.rows_loaded, counts.rows_quarantined) == (5, 3, 2)


def test_payment_plans(spark):
    good, bad, _ = load(spark, URSSAF / "delaiTestData.csv", payment_plans.SOURCE)
    assert not bad
    for row, want in zip(good, expected(URSSAF / "expectedDelai.json"), strict=True):
        assert row.account == want["numero_compte"]
        assert row.case_number == want["numero_contentieux"]
        assert (row.created_date, row.due_date) == (day(want["date_creation"]), day(want["date_echeance"]))
        assert row.duration_days == want["duree_delai"]
        assert (row.name, row.indic_6m) == (want["denomination"], want["indic_6m"])
        assert row.creation_year == want["annee_creation"]
        assert row.amount == want["montant_echeancier"]
        assert (row.stage, row.action) == (want["stade"], want["action"])


def test_ccsf(spark):
    good, bad, _ = load(spark, URSSAF / "ccsfTestData.csv", ccsf.SOURCE)
    assert not bad
    for row, want in zip(good, expected(URSSAF / "expectedCcsf.json"), strict=True):
        assert row.processing_date == day(want["date_traitement"])
        assert (row.stage, row.action) == (want["stade"], want["action"])


def test_proceedings(spark):
    good, bad, _ = load(spark, URSSAF / "procolTestData.csv", proceedings.SOURCE)
    assert not bad
    for row, want in zip(good, expected(URSSAF / "expectedProcol.json"), strict=True):
        assert row.effective_date == day(want["date_effet"])
        assert (row.stage, row.action) == (want["stade_procol"], want["action_procol"])
        assert row.is_opening is False
    assert [r.siren for r in good] == ["012345678", "111098765", "111111111"]


def test_headcount_company_and_establishment(spark):
    good, bad, _ = load(spark, FIXTURES / "tests" / "testData" / "effectifEntTestData.csv", headcount.COMPANY)
    assert not bad
    golden = (FIXTURES / "tests" / "output-snapshots" / "test-import.sql.stg_effectif_ent.golden.txt").read_text()
    want = [line.split("\t") for line in golden.splitlines()[1:]]
    assert [(r.siren, r.period, r.headcount) for r in good] == [
        (w[0].strip(), day(w[1].strip()), int(w[2])) for w in want
    ]
    good, bad, counts = load(spark, FIXTURES / "tests" / "testData" / "effectifTestData.csv", headcount.ESTABLISHMENT)
    assert not bad and counts.rows_loaded == 3
    # 112 month columns per line, 19 blank in the last: blank cells are not rows.
    assert len(good) == 3 * 112 - 19
    first = [r for r in good if r._line == 2]
    assert (first[6].period, first[6].headcount) == (dt.date(2010, 7, 1), 89)  # `089`, zero-padded
    assert {r.siren for r in good} == {"542368702", "149285238", "316726617"}


def test_partial_activity_requests_with_blank_lines(spark):
    path = FIXTURES / "tests" / "testData" / "apdemandeTestData.csv"
    good, bad, counts = load(spark, path, partial_activity.REQUESTS)
    assert not bad and counts.rows_read == 3
    assert [r._line for r in good] == [3, 5, 7]  # blank lines between records still count as lines
    want_all = expected(FIXTURES / "lib" / "parsing" / "apdemande" / "testData" / "expectedApdemande.json")
    for row, want in zip(good, want_all, strict=True):
        assert row.request_id == want["id_demande"]
        assert (row.company_headcount, row.establishment_headcount) == (want["effectif_entreprise"], want["effectif"])
        assert row.status_date == day(want["date_statut"])
        assert (row.start_date, row.end_date) == (day(want["periode_debut"]), day(want["periode_fin"]))
        assert (row.hours_authorised, row.amount_authorised) == (want["hta"], want["mta"])
        assert row.headcount_authorised == want["effectif_autorise"]
        assert row.reason_code == want["motif_recours_se"]
        assert row.hours_consumed_total == want["heures_consommees"]
        assert row.amount_consumed_total == want["montant_consomme"]
        assert row.headcount_consumed_total == want["effectif_consomme"]
        assert row.perimeter == str(want["perimetre"])


def test_partial_activity_consumption(spark):
    good, bad, _ = load(spark, FIXTURES / "tests" / "testData" / "apconsoTestData.csv", partial_activity.CONSUMPTION)
    assert not bad
    golden = (FIXTURES / "tests" / "output-snapshots" / "test-import.sql.stg_apconso.golden.txt").read_text()
    want = {w[1].strip(): w for w in (line.split("\t") for line in golden.splitlines()[1:])}
    for row in good:
        siret, _, hours, amount, headcount, month = want[row.request_id]
        assert row.siret == siret.strip()
        assert (row.hours_used, row.amount, row.headcount) == (float(hours), float(amount), int(headcount))
        assert row.month == day(month.strip()).replace(day=1)  # the month of `MOIS`


def test_sirene_establishments(spark):
    folder = FIXTURES / "lib" / "parsing" / "sirene" / "testData"
    good, bad, _ = load(spark, folder / "sireneTestData.csv", sirene.ESTABLISHMENTS, encoding="utf-8")
    assert not bad and len(good) == 5
    by_siren = {r.siren: r for r in good}
    for want in expected(folder / "expectedSirene.json"):
        row = by_siren[want["siren"]]
        assert row.nic == want["nic"]
        assert row.is_head_office == want.get("siege", False)
        assert (row.commune_code, row.postal_code, row.town) == (want["code_commune"], want["code_postal"], want["commune"])
        assert row.naf == want["ape"]
        assert row.created_date == (day(want["date_creation"]) if "date_creation" in want else None)
        assert row.is_active == want["est_actif"]
    assert by_siren["121212123"].is_active is False  # etatAdministratif F


def test_sirene_legal_units(spark):
    path = FIXTURES / "lib" / "parsing" / "sirene_ul" / "testData" / "sireneULTestData.csv"
    good, bad, _ = load(spark, path, sirene.LEGAL_UNITS, encoding="utf-8")
    # Stricter than the reference, which keeps a null date: an unreadable date is quarantined.
    assert [(q.line, q.reason) for q in bad] == [(3, "dateCreationUniteLegale: 'invalid_date' is not a date yyyy-mm-dd")]
    company = {r.siren: r for r in good}["112233445"]
    assert (company.name, company.legal_category, company.naf) == ("companyname", "5422", "68.01Z")
    assert (company.created_date, company.is_active, company.head_office_nic) == (dt.date(1967, 1, 1), False, "00021")


def test_banque_de_france(spark):
    path = FIXTURES / "history" / "lib" / "bdf" / "testData" / "bdfTestData.csv"
    good, bad, _ = load(spark, path, bdf.SOURCE)
    assert not bad
    assert [(r.siren, r.year, r.closing_date) for r in good] == [
        ("000111222", 2013, dt.date(2012, 12, 31)),
        ("000111223", 2014, dt.date(2013, 12, 31)),
        ("000111224", 2015, dt.date(2014, 12, 31)),
    ]
    assert (good[0].working_capital_weight, good[0].margin_rate, good[0].supplier_delay_days) == (-37.5, -63.1, 88.5)
    assert good[2].tax_social_debt_weight == 235.0


def test_paydex_quarantines_the_impossible_date(spark):
    path = FIXTURES / "history" / "lib" / "paydex" / "testData" / "paydexTestData.csv"
    good, bad, _ = load(spark, path, paydex.SOURCE)
    assert [(q.line, q.reason) for q in bad] == [(4, "DATE_VALEUR: '01/15/2019' is not a date dd/mm/yyyy")]
    assert [(r.siren, r.days_late, r.value_date) for r in good][:2] == [
        ("000000001", 2, dt.date(2018, 12, 15)), ("000000001", 1, dt.date(2018, 1, 15)),
    ]
    assert len(good) == 5
