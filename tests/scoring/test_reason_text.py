"""The reasons in French (scoring/reason_text.py): figures the French way, a feature's lags and
indicators read as the feature, missing values in words or left out."""
import numpy as np

from features import catalog
from scoring.reason_text import (
    MISSING_DATA_TEXT, NBSP, NO_REASON_TEXT, french_number, phrase, reason_wording, reasons_texts,
)

NAN = float("nan")


def test_french_numbers_have_a_decimal_comma_and_spaces_between_thousands():
    assert french_number(12400.4, 0) == f"12{NBSP}400"
    assert french_number(1234567.891, 2) == f"1{NBSP}234{NBSP}567,89"
    assert french_number(4.26, 1, signed=True) == "+4,3"
    assert french_number(-0.04, 1, signed=True) == "+0,0" and french_number(-3.5, 1) == "-3,5"


def test_each_unit_reads_as_a_team_expects():
    def of(name, value, change_value=NAN):
        feature = catalog.feature(name)
        return phrase(feature, value, feature.change, change_value)

    assert of("margin_rate", 3.46, -4.2) == f"taux de marge de 3,5{NBSP}% (-4,2{NBSP}points en 12 mois)"
    assert of("paydex_days", 1.0, 12.0) == f"retard moyen de paiement des fournisseurs de 1{NBSP}jour (+12 en 12 mois)"
    assert of("contributions_due", 8000.0, -0.153) == (
        f"cotisations dues du mois de 8{NBSP}000{NBSP}€ (-15{NBSP}% en 12 mois)")
    assert of("ccsf_active", 1.0) == "plan de règlement CCSF en cours : oui"
    assert of("payment_plan_count", 2.0) == "plans d'apurement URSSAF en cours : 2"
    assert of("payment_plan_deviation", 0.254) == "écart de la dette au plan d'apurement de 25\u00a0% du montant du plan"
    assert of("headcount", NAN) == "effectif non publié" and of("paydex_days", NAN) is None


def test_lags_and_indicators_read_as_their_feature_and_missing_words_are_said_once():
    columns = ["debt_over_contributions", "debt_over_contributions_lag_12m", "debt_total", "margin_rate",
               "margin_rate_missing", "working_capital_weight_missing", "paydex_days_missing"]
    wording = reason_wording(columns)
    themes = [catalog.theme_of(c.removesuffix("_missing")) for c in columns]
    values = {"debt_over_contributions": 4.2, "debt_over_contributions_lag_12m": 2.0, "debt_total": 12400.0,
              "margin_rate": NAN, "working_capital_weight": NAN, "paydex_days": NAN,
              "debt_over_contributions_lag_3m": 3.0, "debt_total_change_3m": 3100.0, "margin_rate_prev_year": 8.0,
              "working_capital_weight_prev_year": NAN, "paydex_days_change_12m": NAN}
    x = np.array([[values[c] for c in wording.value_columns]] * 3)
    contributions = np.array([
        # The 12-month lag leads the debt ratio: its change is the one shown; the two missing
        # balance-sheet ratios say the same words; missing paydex has no words: its theme is left out.
        [0.3, 0.9, 0.5, 0.0, 0.4, 0.3, 0.6],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6],
        [-0.3, 0.1, -0.5, 0.0, 0.0, 0.0, -0.1],
    ])
    texts = reasons_texts(contributions, x, wording, themes, max_themes=3, max_features=2)
    assert texts == [
        f"Dettes sociales : dette URSSAF de 4,2{NBSP}mois de cotisations (+2,2 en 12 mois) ; dette URSSAF totale de "
        f"12{NBSP}400{NBSP}€ (+3{NBSP}100 en 3 mois) | Finances : ratios Banque de France indisponibles",
        MISSING_DATA_TEXT,
        NO_REASON_TEXT,
    ]
    for text in texts:
        assert "_" not in text and not any(column in text for column in columns)
