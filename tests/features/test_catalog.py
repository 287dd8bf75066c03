"""The feature catalogue (features/catalog.py): names unique, themes known, the README table."""
from features import catalog
from jobs.config import PROJECT_ROOT, load_config


def test_catalogue_names_are_unique_and_themes_known():
    names = catalog.feature_names()
    assert len(names) == len(set(names)) and 40 <= len(names) <= 70
    assert {f.theme for f in catalog.FEATURES} <= set(catalog.THEMES)
    assert catalog.theme_of("debt_over_contributions") == "social_debt"


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
