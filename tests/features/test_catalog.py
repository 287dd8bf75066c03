"""The feature catalogue (features/catalog.py): names unique, themes known, every feature worded in
French, the README table."""
from features import catalog
from jobs.config import PROJECT_ROOT, load_config


def test_catalogue_names_are_unique_and_themes_known():
    names = catalog.feature_names()
    assert len(names) == len(set(names)) and 40 <= len(names) <= 70
    assert {f.theme for f in catalog.FEATURES} <= set(catalog.THEMES)
    assert catalog.theme_of("debt_over_contributions") == "social_debt"


def test_every_feature_has_a_french_label_a_unit_and_a_wording_that_resolves():
    names = set(catalog.feature_names())
    for f in catalog.FEATURES:
        assert f.label.strip() and f.label == f.label.strip() and "_" not in f.label, f.name
        assert f.unit in catalog.UNITS, f.name
        if f.reads_as is not None:
            # A lag or change reads as its feature, itself read as itself, in the same theme.
            base = catalog.feature(f.reads_as)
            assert base.reads_as is None and base.theme == f.theme, f.name
        if f.change is not None:
            assert f.change.column in names and f.change.months > 0, f.name
            assert f.change.unit is None or f.change.unit in catalog.UNITS, f.name
    # Every lag, change and earlier balance sheet reads as the feature it is of.
    for f in catalog.FEATURES:
        if "_lag_" in f.name or "_change_" in f.name or f.name.endswith("_prev_year"):
            assert f.reads_as is not None and f.name.split("_")[0] == f.reads_as.split("_")[0], f.name


def test_the_debt_ratio_reads_as_in_the_issue():
    debt = catalog.feature("debt_over_contributions")
    assert (debt.label, catalog.UNITS[debt.unit].symbol) == ("dette URSSAF", "mois de cotisations")
    assert debt.change == catalog.Change("debt_over_contributions_lag_3m", 3, since=True)
    assert catalog.feature("debt_over_contributions_lag_6m").reads_as == "debt_over_contributions"
    assert catalog.feature("headcount").missing_text == "effectif non publié"


def test_markdown_table_has_one_row_per_feature_and_conf_delays():
    rules = {**load_config()["panel"], "bdf_publication_months": 5, "bdf_valid_months": 11}
    lines = catalog.markdown_table(rules).splitlines()
    assert len(lines) == 2 + len(catalog.FEATURES)
    assert lines[2].startswith("| `contributions_due` | Dettes sociales |")
    assert any(line.startswith("| `headcount` |") and line.endswith("| missing (indicator) |") for line in lines)
    margin = next(line for line in lines if line.startswith("| `margin_rate` |"))
    assert "from 5 months after closing, for 11 months" in margin


def test_readme_feature_table_is_the_catalogue():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert catalog.markdown_table(load_config()["panel"]) in readme, (
        "README's feature table differs from the catalogue: paste `python tools/feature_table.py`")
