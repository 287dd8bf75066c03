"""jobs.export_region: the list a regional team opens (CSV and XLSX, French headers, riskiest
first, only its region, read from its partition alone; the XLSX frozen, filtered, fitted, in
percentages, with its legend), errors for what has no scores, and the team's read without Spark."""
import datetime as dt

import openpyxl
import pandas as pd
import pytest
from deltalake import DeltaTable

from jobs import delta_io, export_region
from jobs.cli import exit_with_status
from jobs.config import load_config
from tests.jobs.session_settings import settings_kept
from scoring.regional_list import regional_alert_list

MAY, JUNE = dt.date(2024, 5, 1), dt.date(2024, 6, 1)
SCORES = (
    "siren string, period date, region string, departement string, name string, town string, naf string, "
    "headcount int, p_12m double, p_18m double, p_24m double, alert_level string, first_alert boolean, "
    "reasons array<struct<theme:string,feature:string,contribution:double>>, reasons_text string, "
    "model_version string"
)
REASONS = [("social_debt", "debt_over_contributions", 1.25)]
TEXT = "Dettes sociales : dette URSSAF de 4,2\u00a0mois de cotisations (+1,3 en 3 mois)"
HEADERS = [
    "SIREN", "Raison sociale", "Commune", "Département", "Secteur (NAF)", "Effectif", "Niveau d'alerte",
    "Nouvelle alerte ce mois", "Probabilité de défaillance à 12 mois (%)", "Probabilité de défaillance à 18 mois (%)",
    "Probabilité de défaillance à 24 mois (%)", "Motifs de l'alerte",
]


def score_row(siren, period, region, p18, level, first, headcount=12):
    text = TEXT if level != "none" else ""
    return (siren, period, region, "21", f"SARL {siren}", "Besançon", "25.62A", headcount, p18 / 2, p18, p18 * 1.2,
            level, first, REASONS if level != "none" else [], text, "failure_12m:1,failure_18m:1,failure_24m:1")


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    """A scores table: region 27 in May and June, region 11 in June."""
    lake = tmp_path_factory.mktemp("export") / "lake"
    rows = [
        score_row("000000001", JUNE, "27", 0.40, "moderate", False),
        score_row("000000002", JUNE, "27", 0.70, "high", True, headcount=None),
        score_row("000000003", JUNE, "27", 0.65, "moderate", True),  # a high held back by the cap
        score_row("000000004", JUNE, "27", 0.10, "none", False),
        score_row("000000005", MAY, "27", 0.90, "high", True),
        score_row("000000006", JUNE, "11", 0.80, "high", True),
        score_row("000000007", JUNE, "11", 0.05, "none", False),
    ]
    delta_io.replace_where(spark.createDataFrame(rows, SCORES), lake / "scores", "true", ["region", "period"])
    return lake


def export(spark, lake, *args):
    with settings_kept(spark):
        assert export_region.main(["--lake-dir", str(lake), *args]) == 0


def test_csv_list_in_french_riskiest_first_and_only_the_region(spark, lake, tmp_path):
    out = tmp_path / "27" / "2024-06.csv"
    export(spark, lake, "--region", "27", "--period", "2024-06", "--out", str(out))
    settings = load_config()["scoring"]["export"]
    listed = pd.read_csv(out, sep=settings["csv_separator"], decimal=settings["csv_decimal"],
                         encoding=settings["csv_encoding"], dtype={"SIREN": str})
    assert list(listed.columns) == HEADERS
    assert list(listed["SIREN"]) == ["000000002", "000000003", "000000001"]
    assert list(listed["Niveau d'alerte"]) == ["élevé", "modéré", "modéré"]
    assert list(listed["Nouvelle alerte ce mois"]) == ["oui", "oui", "non"]
    # Percentages, as the headers say.
    assert listed["Probabilité de défaillance à 18 mois (%)"].tolist() == [70.0, 65.0, 40.0]
    assert listed["Commune"][0] == "Besançon" and pd.isna(listed["Effectif"][0]) and listed["Effectif"][1] == 12
    assert listed["Motifs de l'alerte"][0] == TEXT
    # Decimal commas and semicolons in UTF-8 with a BOM, as Excel in French opens them.
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and ";70,0;" in raw.decode("utf-8-sig").splitlines()[1]


def test_xlsx_list_opens_frozen_filtered_fitted_in_percentages_with_a_legend(spark, lake, tmp_path):
    out = tmp_path / "list.xlsx"
    export(spark, lake, "--region", "27", "--out", str(out))  # the region's latest month: June
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Alertes 27 2024-06", "Légende"]
    sheet = book["Alertes 27 2024-06"]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["000000002", "000000003", "000000001"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:L4"
    p18 = sheet.cell(row=2, column=HEADERS.index("Probabilité de défaillance à 18 mois (%)") + 1)
    assert p18.value == pytest.approx(0.70) and p18.number_format == "0.0%"
    widths = {letter: dimension.width for letter, dimension in sheet.column_dimensions.items()}
    assert max(widths.values()) <= load_config()["scoring"]["export"]["xlsx_max_column_width"]
    assert widths["A"] == len("000000002") + 2 and widths["I"] < len(HEADERS[8])  # the header wraps
    assert sheet["L2"].value == TEXT

    legend = {heading: text for heading, text in book["Légende"].iter_rows(min_row=2, values_only=True)}
    assert [cell.value for cell in book["Légende"][1]] == ["Rubrique", "Explication"]
    assert legend["Mois des données"].startswith("juin 2024")
    assert legend["Versions des modèles"].startswith("failure_12m:1,failure_18m:1,failure_24m:1")
    assert "seuil « élevé »" in legend["Niveau d'alerte « élevé »"] and "F0,5" in legend["Niveau d'alerte « élevé »"]
    assert "Au plus 5 nouvelles alertes" in legend["Niveau d'alerte « élevé »"]  # region 27's cap in conf
    assert "F2" in legend["Niveau d'alerte « modéré »"]
    assert "12, 18 ou 24 mois" in legend["Probabilités de défaillance (%)"]
    assert "chiffres de l'entreprise" in legend["Motifs de l'alerte"]


def test_xlsx_list_defaults_to_the_region_latest_month(spark, lake, tmp_path):
    out = tmp_path / "list.xlsx"
    export(spark, lake, "--region", "11", "--out", str(out))
    sheets = pd.read_excel(out, sheet_name=None, dtype={"SIREN": str})
    assert list(sheets) == ["Alertes 11 2024-06", "Légende"]
    assert list(sheets["Alertes 11 2024-06"]["SIREN"]) == ["000000006"]


@pytest.mark.parametrize("args, message", [
    (["--region", "99"], "error: LookupError: no scores for region '99': the regions scored are 11, 27"),
    (["--region", "27", "--period", "2031-01"],
     "error: LookupError: no scores for region 27 in 2031-01: its latest scored month is 2024-06"),
])
def test_a_region_or_month_without_scores_fails_naming_what_exists(spark, lake, tmp_path, capsys, args, message):
    out = tmp_path / "list.csv"
    with settings_kept(spark), pytest.raises(SystemExit) as exited:
        exit_with_status(export_region.main, ["--lake-dir", str(lake), *args, "--out", str(out)])
    assert exited.value.code == 1 and capsys.readouterr().err.strip().splitlines()[-1] == message
    assert not out.exists()


def test_unknown_extension_is_refused(spark, lake, tmp_path):
    with pytest.raises(ValueError, match="csv or .xlsx"):
        export_region.main(["--lake-dir", str(lake), "--region", "27", "--out", str(tmp_path / "list.pdf")])


def test_the_list_reads_only_the_region_partition(spark, lake):
    listed = regional_alert_list(delta_io.read(spark, lake / "scores"), "27", JUNE, (12, 18, 24), 18)
    plan = listed._jdf.queryExecution().executedPlan().toString()
    partition_filters = plan[plan.index("PartitionFilters: ["):].split("]")[0]
    assert "region" in partition_filters and "27" in partition_filters and "period" in partition_filters


def test_a_regional_team_reads_its_partition_with_pandas_without_spark(lake):
    # What the README shows: the `deltalake` package reads one region's partition into pandas.
    scores = DeltaTable(str(lake / "scores")).to_pandas(filters=[("region", "=", "27")])
    assert sorted(scores["siren"]) == ["000000001", "000000002", "000000003", "000000004", "000000005"]
    june = DeltaTable(str(lake / "scores")).to_pandas(filters=[("region", "=", "27"), ("period", "=", JUNE)])
    assert set(june["period"]) == {JUNE} and set(june["region"]) == {"27"}
    assert sorted(june.loc[june["alert_level"] != "none", "siren"]) == ["000000001", "000000002", "000000003"]
