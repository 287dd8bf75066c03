"""The feature catalogue (features/catalog.py): names unique, themes known, the README table."""
from features import catalog


def test_catalogue_names_are_unique_and_themes_known():
    names = catalog.feature_names()
    assert len(names) == len(set(names)) and 40 <= len(names) <= 70
    assert {f.theme for f in catalog.FEATURES} <= set(catalog.THEMES)
    assert catalog.theme_of("debt_over_contributions") == "social_debt"


def test_markdown_table_has_one_row_per_feature():
    lines = catalog.markdown_table().splitlines()
    assert len(lines) == 2 + len(catalog.FEATURES)
    assert lines[2].startswith("| `contributions_due` | Dettes sociales |")
    assert any(line.startswith("| `headcount` |") and line.endswith("| missing (indicator) |") for line in lines)
