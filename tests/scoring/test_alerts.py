"""Alert levels, the regions' cap on new high alerts, first alerts and the regional list."""
import datetime as dt

import pytest
from chispa import assert_df_equality

from scoring.alerts import AlertPolicy, assign_alert_level, cap_new_high_alerts, flag_first_alert, regional_alert_list

JUNE, MAY = dt.date(2024, 6, 1), dt.date(2024, 5, 1)
HISTORY = "siren string, period date, alert_level string"


def test_levels_follow_the_thresholds_inclusive(spark):
    expected = spark.createDataFrame(
        [("1", 0.9, "high"), ("2", 0.6, "high"), ("3", 0.59, "moderate"), ("4", 0.3, "moderate"), ("5", 0.29, "none")],
        "siren string, p_18m double, alert_level string",
    )
    actual = assign_alert_level(expected.drop("alert_level"), "p_18m", threshold_high=0.6, threshold_moderate=0.3)
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_cap_keeps_the_riskiest_new_highs_of_a_capped_region(spark):
    expected = spark.createDataFrame(
        [
            ("A", "27", 0.90, "high"),      # high last month: not new, not counted
            ("B", "27", 0.80, "high"),      # moderate last month: new, second riskiest new
            ("C", "27", 0.70, "moderate"),  # high two months ago only: new, third: over the cap of 2
            ("D", "27", 0.95, "high"),      # new, riskiest
            ("E", "27", 0.50, "moderate"),
            ("F", "11", 0.61, "high"),      # region 11 has no cap
            ("G", "11", 0.62, "high"),
            ("H", "11", 0.63, "high"),
        ],
        "siren string, region string, p_18m double, alert_level string",
    )
    scored = expected.drop("alert_level").withColumnRenamed("p_18m", "p").transform(
        assign_alert_level, "p", threshold_high=0.6, threshold_moderate=0.4
    ).withColumnRenamed("p", "p_18m")
    history = spark.createDataFrame(
        [("A", MAY, "high"), ("B", MAY, "moderate"), ("C", dt.date(2024, 4, 1), "high")], HISTORY
    )
    actual = cap_new_high_alerts(scored, history, JUNE, {"27": 2}, "p_18m")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
    assert cap_new_high_alerts(scored, history, JUNE, {}, "p_18m") is scored


def test_region_codes_of_the_cap_must_be_text():
    with pytest.raises(ValueError, match="quoted"):
        AlertPolicy(18, 0.6, 0.3, {27: 5}, 12, 3, 2)


def test_first_alert_looks_back_twelve_months(spark):
    expected = spark.createDataFrame(
        [
            ("A", "high", False),     # alerted exactly 12 months before
            ("B", "moderate", True),  # last alert 13 months before
            ("C", "high", True),      # only an earlier run of this same month: not "before"
            ("D", "moderate", True),  # scored last month without an alert
            ("E", "none", False),     # not alerted now
        ],
        "siren string, alert_level string, first_alert boolean",
    )
    history = spark.createDataFrame(
        [("A", dt.date(2023, 6, 1), "moderate"), ("B", dt.date(2023, 5, 1), "high"), ("C", JUNE, "high"),
         ("D", MAY, "none"), ("E", MAY, "high")],
        HISTORY,
    )
    actual = flag_first_alert(expected.drop("first_alert"), history, JUNE, lookback_months=12)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


SCORES = (
    "siren string, period date, region string, departement string, name string, town string, naf string, "
    "headcount int, p_12m double, p_18m double, p_24m double, alert_level string, first_alert boolean, "
    "reasons_text string"
)


def test_regional_list_has_french_headers_riskiest_first_and_only_the_region(spark):
    def row(siren, region, p18, level, first, period=JUNE):
        return (siren, period, region, "21", f"SA {siren}", "DIJON", "25.62A", 12, p18 / 2, p18, p18 * 1.2, level,
                first, "Dettes sociales (+1,00 : debt_ratio +1,00)")

    scores = spark.createDataFrame(
        [
            row("000000001", "27", 0.40, "moderate", False),
            row("000000002", "27", 0.70, "high", True),
            row("000000003", "27", 0.50, "moderate", True),   # riskier than 1, less than a high
            row("000000004", "27", 0.10, "none", False),      # not alerted: not listed
            row("000000005", "11", 0.90, "high", True),       # another region
            row("000000006", "27", 0.80, "high", True, MAY),  # another month
            row("000000007", "27", 0.65, "moderate", False),  # capped high: after every high
        ],
        SCORES,
    )
    listed = regional_alert_list(scores, "27", JUNE, (12, 18, 24), rank_horizon=18).collect()
    assert [r["SIREN"] for r in listed] == ["000000002", "000000007", "000000003", "000000001"]
    first = listed[0].asDict()
    assert list(first) == [
        "SIREN", "Raison sociale", "Commune", "Département", "Secteur (NAF)", "Effectif", "Niveau d'alerte",
        "Nouvelle alerte ce mois", "Probabilité de défaillance à 12 mois (%)",
        "Probabilité de défaillance à 18 mois (%)", "Probabilité de défaillance à 24 mois (%)",
        "Motifs (contributions au risque)",
    ]
    assert first["Niveau d'alerte"] == "élevé" and listed[1]["Niveau d'alerte"] == "modéré"
    assert first["Nouvelle alerte ce mois"] == "oui" and listed[1]["Nouvelle alerte ce mois"] == "non"
    assert first["Probabilité de défaillance à 18 mois (%)"] == 70.0
