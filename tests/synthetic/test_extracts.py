"""Every generated file has the real header, delimiter, quoting, encoding and field formats.

Headers are compared with the State's importer test data in tests/fixtures/; field formats are
checked on every well-formed row of a tiny delivery.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from synthetic.extracts import SPECS, SPEC_BY_SOURCE
from tests.synthetic.files import clean_records, header, is_valid_date, read_lines, source_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "signaux-faibles" / "opensignauxfaibles"
FIXTURE_FILES = {
    "contributions": "lib/parsing/urssaf/testData/cotisationTestData.csv",
    "debts": "lib/parsing/urssaf/testData/debitTestData.csv",
    "payment_plans": "lib/parsing/urssaf/testData/delaiTestData.csv",
    "ccsf": "lib/parsing/urssaf/testData/ccsfTestData.csv",
    "proceedings": "lib/parsing/urssaf/testData/procolTestData.csv",
    "headcount_establishment": "tests/testData/effectifTestData.csv",
    "headcount_company": "tests/testData/effectifEntTestData.csv",
    "ap_requests": "lib/parsing/apdemande/testData/apdemandeTestData.csv",
    "ap_consumption": "tests/testData/apconsoTestData.csv",
    "sirene_establishments": "lib/parsing/sirene/testData/sireneTestData.csv",
    "sirene_legal_units": "lib/parsing/sirene_ul/testData/sireneULTestData.csv",
    "bdf_ratios": "history/lib/bdf/testData/bdfTestData.csv",
    "paydex": "history/lib/paydex/testData/paydexTestData.csv",
}

DIGITS = {n: re.compile(rf"^\d{{{n}}}$") for n in (3, 4, 8, 9, 14, 18)}
DEPARTEMENT = re.compile(r"^(\d{2}|2[AB]|97\d)$")
EUROS_COMMA = re.compile(r"^\d+,\d{2}$")
EUROS_EITHER = re.compile(r"^\d+[.,]\d{2}$")
INTEGER = re.compile(r"^\d+$")
FLOAT = re.compile(r"^\d+\.\d+$")
ONE_DECIMAL = re.compile(r"^-?\d+\.\d$")
HEADCOUNT = re.compile(r"^(\d{3,}|\d{1,3}( \d{3})+)?$")
LABEL = re.compile(r"^(Ouverture_procedure|Plan_continuation|Solde_procedure)_(liquidation|redressement|sauvegarde)$")


def _fixture_header(source: str) -> list[str]:
    first = (FIXTURES / FIXTURE_FILES[source]).read_bytes().splitlines()[0].decode("utf-8")
    delimiter = SPEC_BY_SOURCE[source].delimiter
    return [name.strip('"') for name in first.split(delimiter)]


@pytest.mark.parametrize("source", sorted(FIXTURE_FILES))
def test_header_is_the_fixtures(tiny, source):
    spec = SPEC_BY_SOURCE[source]
    expected = _fixture_header(source)
    for _, path in source_files(tiny.raw, source):
        names = header(path, spec)
        if spec.header:
            assert names == expected
        else:  # wide headcount files: same leading and trailing columns, effYYYYQM months between
            fixed = [n for n in expected if not n.startswith("eff")]
            assert [n for n in names if not n.startswith("eff")] == fixed
            months = [n for n in names if n.startswith("eff")]
            assert months and all(re.fullmatch(r"eff\d{4}[1-4][1-3]", m) for m in months)
            assert names[names.index(months[0]):names.index(months[-1]) + 1] == months


def test_every_batch_holds_every_file(tiny):
    for folder in tiny.raw.iterdir():
        assert sorted(p.name for p in folder.iterdir()) == sorted(spec.file_name for spec in SPECS)


def test_quoting_and_line_ends_of_partial_activity_files(tiny):
    request = SPEC_BY_SOURCE["ap_requests"]
    path = source_files(tiny.raw, "ap_requests")[0][1]
    data = path.read_bytes()
    assert data.startswith(b'"ID_DA","ETAB_SIRET",EFF_ENT,EFF_ETAB,"DATE_STATUT"')
    assert data.count(b"\r\n") == data.count(b"\n")  # CRLF throughout, as the fixture
    line = re.compile(r'^"[a-z]\d{9}","\d{14}",(\d+\.\d+,){2}("\d{4}-\d{2}-\d{2}",){3}(\d+\.\d+,){3}'
                      r'"[1-5]","[12]",(\d+\.\d+,){3}"[12]"$')
    lines = read_lines(path, request)
    assert lines and sum(bool(line.match(text)) for text in lines) >= len(lines) - 2
    consumption = SPEC_BY_SOURCE["ap_consumption"]
    path = source_files(tiny.raw, "ap_consumption")[0][1]
    assert b"\r" not in path.read_bytes()
    line = re.compile(r'^"[a-z]\d{9}","\d{14}",\d+\.\d+,\d+\.\d+,\d+\.\d+,"\d{4}-\d{2}-01"$')
    lines = read_lines(path, consumption)
    assert lines and sum(bool(line.match(text)) for text in lines) >= len(lines) - 2


def test_encodings(tiny):
    """URSSAF and Banque de France files are Latin-1 with accented names; SIRENE and AP are UTF-8."""
    first = sorted(tiny.raw.iterdir())[0]
    names = (first / SPEC_BY_SOURCE["headcount_establishment"].file_name).read_bytes()
    assert any(byte in names for byte in "ÉÈÇÊ".encode("latin-1"))
    names.decode("latin-1")
    for source in ("sirene_establishments", "sirene_legal_units", "ap_requests", "ap_consumption"):
        for _, path in source_files(tiny.raw, source):
            undecodable = 0
            for raw in path.read_bytes().splitlines():
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    undecodable += 1
            assert undecodable <= 3  # only the dirty rows with a Latin-1 name


def _assert_all(records, checks):
    """Every record passes every check (column -> predicate), except at most 1% dirty ones."""
    assert records
    failures = [(name, rec[name]) for _, rec in records for name, check in checks.items() if not check(rec[name])]
    assert len(failures) <= max(2, len(records) // 100), failures[:5]


def _date(date_format: str):
    return lambda text: is_valid_date(text, date_format)


def _ok(function):
    def check(text):
        try:
            function(text)
            return True
        except (ValueError, AssertionError):
            return False
    return check


def test_urssaf_field_formats(tiny):
    contributions = clean_records(tiny.raw, "contributions")
    _assert_all(contributions, {
        "Urssaf_gestion": DIGITS[3].match, "Dep": DEPARTEMENT.match, "Siret": DIGITS[14].match,
        "Compte": DIGITS[18].match, "periode": _date("period"),
        "mer": EUROS_COMMA.match, "enc_direct": EUROS_COMMA.match, "cotis_due": EUROS_COMMA.match})
    # Both forms of period codes occur (YYQM and YYYYQM), and whole quarters (M = 0).
    assert {len(rec["periode"]) for _, rec in contributions} == {4, 6}
    assert any(rec["periode"].endswith("0") for _, rec in contributions)
    _assert_all(clean_records(tiny.raw, "debts"), {
        "Siren": DIGITS[9].match, "Siret": DIGITS[14].match, "num_cpte": DIGITS[18].match,
        "Dt_immat": _ok(lambda t: dt.datetime.strptime(t, "%Y%m%d")), "Etat_cpte": INTEGER.match,
        "Cd_pro_col": INTEGER.match, "Periode": lambda t: len(t) == 6 and is_valid_date(t, "period"),
        "Num_Ecn": INTEGER.match, "Num_Hist_Ecn": INTEGER.match, "Dt_trt_ecn": _date("urssaf"),
        "Mt_PO": INTEGER.match, "Mt_PP": INTEGER.match, "Recours_en_cours": re.compile("^[01]$").match})
    _assert_all(clean_records(tiny.raw, "payment_plans"), {
        "Siret": DIGITS[14].match, "Date_creation": _date("slash"), "Date_echeance": _date("slash"),
        "Duree_delai": INTEGER.match, "Indic_6M": {"SUP", "INF"}.__contains__, "Annee_creation": DIGITS[4].match,
        "Montant_global_echeancier": EUROS_EITHER.match, "Code_externe_stade": {"APPROB", "REFUS"}.__contains__})
    _assert_all(clean_records(tiny.raw, "ccsf"), {
        "Siret": DIGITS[14].match, "Compte": DIGITS[18].match, "Date_de_traitement": _date("urssaf"),
        "Code_externe_stade": {"DEBUT", "REFUS", "APPROB", "FIN", "REJ"}.__contains__})
    _assert_all(clean_records(tiny.raw, "proceedings"), {
        "Siret": DIGITS[14].match, "Siren": DIGITS[9].match,
        "Dt_effet": _date("english"), "Lib_actx_stdx": LABEL.match})


def test_headcount_field_formats(tiny):
    for source, key in (("headcount_establishment", "siret"), ("headcount_company", "siren")):
        records = clean_records(tiny.raw, source)
        # One pseudo-column holding every month cell of the row (months differ between batches).
        cells = [(batch, {key: rec[key], "months": [v for k, v in rec.items() if k.startswith("eff")]})
                 for batch, rec in records]
        _assert_all(cells, {key: DIGITS[14 if key == "siret" else 9].match,
                            "months": lambda values: values and all(HEADCOUNT.match(v) for v in values)})
    _assert_all(clean_records(tiny.raw, "headcount_establishment"), {
        "compte": DIGITS[18].match, "ape_ins": re.compile(r"^\d{4}[A-Z]$").match, "dep": DEPARTEMENT.match})


def test_sirene_field_formats(tiny):
    records = clean_records(tiny.raw, "sirene_establishments")
    _assert_all(records, {
        "siren": DIGITS[9].match, "nic": re.compile(r"^\d{5}$").match, "siret": DIGITS[14].match,
        "dateCreationEtablissement": _date("iso"), "etablissementSiege": {"true", "false"}.__contains__,
        "codeCommuneEtablissement": re.compile(r"^(\d{5}|2[AB]\d{3})$").match,
        "activitePrincipaleEtablissement": re.compile(r"^\d{2}\.\d{2}[A-Z]$").match,
        "etatAdministratifEtablissement": {"A", "F"}.__contains__, "longitude": _ok(float)})
    assert all(rec["siret"] == rec["siren"] + rec["nic"] for _, rec in records[:1000])
    _assert_all(clean_records(tiny.raw, "sirene_legal_units"), {
        "siren": DIGITS[9].match, "dateCreationUniteLegale": _date("iso"),
        "categorieJuridiqueUniteLegale": DIGITS[4].match, "etatAdministratifUniteLegale": {"A", "C"}.__contains__,
        "nicSiegeUniteLegale": re.compile(r"^\d{5}$").match, "categorieEntreprise": {"PME", "ETI", "GE"}.__contains__})


def test_banque_de_france_and_paydex_field_formats(tiny):
    _assert_all(clean_records(tiny.raw, "bdf_ratios"), {
        "D1": re.compile(r"^\d{3} \d{3} \d{3}$").match, "ANNEE": DIGITS[4].match,
        "ARRETE_BILAN": _date("french"), "CP": re.compile(r"^\d{5}$").match,
        **{name: ONE_DECIMAL.match for name in ("POIDS_FRNG", "TX_MARGE", "DELAI_FRS", "POIDS_DFISC_SOC",
                                                "POIDS_FIN_CT", "POIDS_FRAIS_FIN")}})
    _assert_all(clean_records(tiny.raw, "paydex"), {
        "SIREN": DIGITS[9].match, "NB_JOURS": INTEGER.match,
        "NB_JOURS_LIB": re.compile(r"^\d+ jours$").match, "DATE_VALEUR": _date("slash")})


def test_partial_activity_field_formats(tiny):
    _assert_all(clean_records(tiny.raw, "ap_requests"), {
        "ETAB_SIRET": DIGITS[14].match, "DATE_STATUT": _date("iso"), "DATE_DEB": _date("iso"), "DATE_FIN": _date("iso"),
        "HTA": FLOAT.match, "MTA": FLOAT.match, "EFF_AUTO": FLOAT.match,
        "MOTIF_RECOURS_SE": re.compile("^[1-5]$").match})
    _assert_all(clean_records(tiny.raw, "ap_consumption"), {
        "ETAB_SIRET": DIGITS[14].match, "HEURES": FLOAT.match, "MONTANTS": FLOAT.match, "MOIS": _date("iso")})
