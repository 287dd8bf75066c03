"""jobs.export_region: the list a regional team opens (CSV and XLSX, French headers, riskiest
first, only its region, read from its partition alone), and the team's read without Spark."""
import datetime as dt

import pandas as pd
import pytest
from deltalake import DeltaTable

from jobs import delta_io, export_region
from jobs.config import load_config
from tests.jobs.session_settings import settings_kept
from scoring.alerts import regional_alert_list

MAY, JUNE = dt.date(2024, 5, 1), dt.date(2024, 6, 1)
SCORES = (
    "siren string, period date, region string, departement string, name string, town string, naf string, "
    "headcount int, p_12m double, p_18m double, p_24m double, alert_level string, first_alert boolean, "
    "reasons array<struct<theme:string,feature:string,contribution:double>>, reasons_text string, "
    "model_version string"
)
REASONS = [("social_debt", "debt_ratio", 1.25)]


def score_row(siren, period, region, p18, level, first, headcount=12):
    text = "Dettes sociales (+1,25 : debt_ratio +1,25)" if level != "none" else ""
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
    assert list(listed.columns) == [
        "SIREN", "Raison sociale", "Commune", "Département", "Secteur (NAF)", "Effectif", "Niveau d'alerte",
        "Nouvelle alerte ce mois", "Probabilité de défaillance à 12 mois (%)",
        "Probabilité de défaillance à 18 mois (%)", "Probabilité de défaillance à 24 mois (%)",
        "Motifs (contributions au risque)",
    ]
    assert list(listed["SIREN"]) == ["000000002", "000000003", "000000001"]
    assert list(listed["Niveau d'alerte"]) == ["élevé", "modéré", "modéré"]
    assert list(listed["Nouvelle alerte ce mois"]) == ["oui", "oui", "non"]
    assert listed["Probabilité de défaillance à 18 mois (%)"].tolist() == [70.0, 65.0, 40.0]
    assert listed["Commune"][0] == "Besançon" and pd.isna(listed["Effectif"][0]) and listed["Effectif"][1] == 12
    assert listed["Motifs (contributions au risque)"][0] == "Dettes sociales (+1,25 : debt_ratio +1,25)"
    # Decimal commas and semicolons, as a French spreadsheet opens them.
    assert "70,0" in out.read_text(encoding="utf-8-sig").splitlines()[1]


def test_xlsx_list_defaults_to_the_region_latest_month(spark, lake, tmp_path):
    out = tmp_path / "list.xlsx"
    export(spark, lake, "--region", "11", "--out", str(out))
    sheets = pd.read_excel(out, sheet_name=None, dtype={"SIREN": str})
    assert list(sheets) == ["Alertes 11 2024-06"]
    assert list(sheets["Alertes 11 2024-06"]["SIREN"]) == ["000000006"]


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
