"""Every table's location comes from conf through jobs.lake."""
import datetime as dt

import pytest

from jobs.config import load_config
from jobs.lake import TABLES, Lake


def test_every_table_is_under_the_lake_dir_by_its_conf_name(tmp_path):
    conf = load_config().with_overrides(lake_dir=str(tmp_path / "lake"), exports_dir=str(tmp_path / "out"))
    conf["tables"]["scores"] = "scores_v2"
    lake = Lake.from_conf(conf)
    assert lake.scores == tmp_path / "lake" / "scores_v2"
    assert lake.bronze("debts") == tmp_path / "lake" / "bronze" / "debts"
    assert [lake.table(name).name for name in ("quarantine", "ingest_log", "panel", "in_proceedings")] == [
        "quarantine", "ingest_log", "panel", "in_proceedings"]
    assert lake.exports("27", dt.date(2024, 6, 1), ["csv", "xlsx"]) == [
        tmp_path / "out" / "27" / "2024-06.csv", tmp_path / "out" / "27" / "2024-06.xlsx"]


def test_an_absolute_table_name_is_taken_as_it_is(tmp_path):
    conf = load_config()
    conf["tables"]["panel"] = str(tmp_path / "elsewhere")
    assert Lake.from_conf(conf).panel == tmp_path / "elsewhere"


def test_a_table_missing_from_conf_is_named():
    conf = load_config()
    del conf["tables"]["ingest_log"]
    with pytest.raises(KeyError, match="ingest_log"):
        Lake.from_conf(conf)
    assert set(TABLES) <= set(load_config()["tables"])
