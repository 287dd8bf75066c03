"""The panel's columns, rules from conf and refresh window (features/panel.py); the whole panel is
tested through its job, tests/jobs/test_build_panel.py."""
import datetime as dt

from features import catalog
from features.panel import PanelRules, panel_columns, refresh_start

D = dt.date


def test_rules_from_conf_and_columns(conf):
    rules = PanelRules.from_conf(conf["panel"], conf["horizons"])
    assert rules.horizons == (12, 18, 24) and rules.headcount_delay_months == (1, 6)
    assert rules.excluded_naf_divisions == ("84", "85", "64", "65", "66")
    columns = panel_columns(rules.horizons)
    assert len(columns) == len(set(columns))
    assert columns[:2] == ["siren", "period"] and columns[-4:] == ["after_failure", "failure_12m", "failure_18m",
                                                                  "failure_24m"]
    assert set(catalog.feature_names()) < set(columns)


def test_refresh_start_reaches_back_a_horizon_from_the_new_month_or_a_late_opening():
    first, end = D(2021, 1, 1), D(2024, 3, 1)
    assert refresh_start(None, first, end, None, None, 24) == first
    assert refresh_start(D(2024, 3, 1), first, end, None, None, 24) is None
    assert refresh_start(D(2024, 2, 1), first, end, None, None, 24) == D(2022, 3, 1)
    assert refresh_start(D(2024, 2, 1), first, end, D(2023, 11, 1), None, 24) == D(2021, 11, 1)
    assert refresh_start(D(2022, 2, 1), first, end, None, None, 24) == first


def test_refresh_start_reaches_a_perimeter_change_before_the_window():
    first, end = D(2021, 1, 1), D(2024, 3, 1)
    assert refresh_start(D(2024, 2, 1), first, end, None, D(2023, 12, 1), 24) == D(2022, 3, 1)  # inside already
    assert refresh_start(D(2024, 2, 1), first, end, None, D(2021, 6, 1), 24) == D(2021, 6, 1)
