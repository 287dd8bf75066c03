"""The regional list (scoring/regional_list.py): French headers, riskiest first, only its region,
probabilities as fractions; the month asked for, or an error naming what exists; the legend."""
import datetime as dt

import pytest

from scoring.regional_list import REASONS_HEADER, legend, list_period, regional_alert_list

JUNE, MAY = dt.date(2024, 6, 1), dt.date(2024, 5, 1)
SCORES = (
    "siren string, period date, region string, departement string, name string, town string, naf string, "
    "headcount int, p_12m double, p_18m double, p_24m double, alert_level string, first_alert boolean, "
    "reasons_text string"
)
TEXT = "Dettes sociales : dette URSSAF de 4,2\u00a0mois de cotisations (+1,3 en 3 mois)"


def scores_of(spark):
    def row(siren, region, p18, level, first, period=JUNE):
        return (siren, period, region, "21", f"SA {siren}", "DIJON", "25.62A", 12, p18 / 2, p18, p18 * 1.2, level,
                first, TEXT)

    return spark.createDataFrame(
        [
            row("000000001", "27", 0.40, "moderate", False),
            row("000000002", "27", 0.70, "high", True),
            row("000000003", "27", 0.50, "moderate", True),   # riskier than 1, less than a high
            row("000000004", "27", 0.10, "none", False),      # not alerted: not listed
            row("000000005", "11", 0.90, "high", True),       # another region
            row("000000006", "27", 0.80, "high", True, MAY),  # another month
            row("000000007", "27", 0.65, "moderate", False),  # capped high: after every high
            row("000000008", None, 0.95, "high", True),       # head office unknown: in no region
        ],
        SCORES,
    )


def test_regional_list_has_french_headers_riskiest_first_and_only_the_region(spark):
    listed = regional_alert_list(scores_of(spark), "27", JUNE, (12, 18, 24), rank_horizon=18).collect()
    assert [r["SIREN"] for r in listed] == ["000000002", "000000007", "000000003", "000000001"]
    first = listed[0].asDict()
    assert list(first) == [
        "SIREN", "Raison sociale", "Commune", "Département", "Secteur (NAF)", "Effectif", "Niveau d'alerte",
        "Nouvelle alerte ce mois", "Probabilité de défaillance à 12 mois (%)",
        "Probabilité de défaillance à 18 mois (%)", "Probabilité de défaillance à 24 mois (%)", REASONS_HEADER,
    ]
    assert first["Niveau d'alerte"] == "élevé" and listed[1]["Niveau d'alerte"] == "modéré"
    assert first["Nouvelle alerte ce mois"] == "oui" and listed[1]["Nouvelle alerte ce mois"] == "non"
    # A fraction: the writer shows it as a percentage.
    assert first["Probabilité de défaillance à 18 mois (%)"] == 0.70 and first[REASONS_HEADER] == TEXT


def test_the_month_asked_for_or_an_error_naming_what_exists(spark):
    scores = scores_of(spark)
    assert list_period(scores, "27", None) == JUNE and list_period(scores, "27", MAY) == MAY
    # The firm without a region is in no list: its null is no region code.
    with pytest.raises(LookupError, match="^no scores for region '99': the regions scored are 11, 27$"):
        list_period(scores, "99", None)
    with pytest.raises(LookupError, match="^no scores for region 11 in 2024-05: its latest scored month is 2024-06$"):
        list_period(scores, "11", MAY)


def test_the_legend_says_what_levels_probabilities_reasons_and_versions_mean():
    rows = legend("27", JUNE, ["failure_12m:3,failure_18m:4,failure_24m:2"], [12, 18, 24], 18,
                  {"high": 0.5, "moderate": 2.0}, new_high_cap=None, lookback_months=12, max_themes=3, max_features=2)
    text = dict(rows)
    assert list(text) == ["Mois des données", "Région", "Niveau d'alerte « élevé »", "Niveau d'alerte « modéré »",
                          "Nouvelle alerte ce mois", "Probabilités de défaillance (%)", REASONS_HEADER,
                          "Versions des modèles"]
    assert text["Mois des données"].startswith("juin 2024 : ") and text["Région"] == "27"
    high = text["Niveau d'alerte « élevé »"]
    assert "à 18 mois" in high and "validation" in high and "F0,5" in high and "Au plus" not in high
    assert "F2" in text["Niveau d'alerte « modéré »"] and "12 mois précédents" in text["Nouvelle alerte ce mois"]
    assert "procédure collective" in text["Probabilités de défaillance (%)"]
    assert "jusqu'à 3 thèmes" in text[REASONS_HEADER] and "jusqu'à 2 indicateurs" in text[REASONS_HEADER]
    assert text["Versions des modèles"].startswith("failure_12m:3,failure_18m:4,failure_24m:2 ")


def test_the_legend_opens_with_a_warning_in_a_drifting_month():
    arguments = dict(region="27", period=JUNE, versions=["failure_18m:4"], horizons=[12, 18, 24], alert_horizon=18,
                     betas={"high": 0.5, "moderate": 2.0}, new_high_cap=None, lookback_months=12, max_themes=3,
                     max_features=2)
    heading, text = legend(**arguments, drifting_labels=["dette URSSAF en mois de cotisations",
                                                         "heures d'activité partielle par salarié"])[0]
    assert heading == "Attention : données inhabituelles"
    assert text.startswith("Les données de juin 2024 s'écartent nettement de celles sur lesquelles le modèle a appris "
                           "(dette URSSAF en mois de cotisations, heures d'activité partielle par salarié).")
    assert "avec prudence" in text
    assert legend(**arguments)[0][0] == "Mois des données"  # a calm month: no warning
