"""`python -m jobs.train` on a tiny panel in Delta: trains, registers a champion, and retraining from
the logged run (its panel version, features and settings) reproduces its metrics."""
import mlflow
import pytest
import yaml

from features import catalog
from jobs import delta_io, train
from jobs.config import PROJECT_ROOT
from tests.conftest import TEST_SPARK_SETTINGS
from tests.training.tiny_panel import FILL_VALUES, THEMES, tiny_panel, tiny_settings
from training.registry import CHAMPION, version_by_alias

TINY_CATALOGUE = [
    catalog.Feature(name, formula="test", source="test", theme=THEMES[name], label="test", unit="number",
                    fill_value=FILL_VALUES[name])
    for name in FILL_VALUES
]


@pytest.fixture(scope="module")
def project(tmp_path_factory, spark, conf):
    """A project folder with a tiny panel (two Delta versions) and a conf extending the real one."""
    root = tmp_path_factory.mktemp("project")
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    lake = root / "lake"
    panel = tiny_panel(spark, firms=300)
    delta_io.overwrite(panel.limit(10), lake / "panel")  # version 0: not trainable
    delta_io.overwrite(panel, lake / "panel")  # version 1
    (root / "conf").mkdir()
    conf_file = root / "conf" / "test.yaml"
    conf_file.write_text(yaml.safe_dump({
        "extends": str(PROJECT_ROOT / "conf" / "local.yaml"),
        # The same settings as the test session, which build_session reuses.
        "spark": {"jars_dir": str(PROJECT_ROOT / ".cache" / "jars"), "settings": TEST_SPARK_SETTINGS},
        "horizons": [12],  # the tiny panel's 3 years leave no room for a longer horizon
        "training": {**tiny_settings(conf["training"]),
                     "search": {"positive_weight": ["balanced"], "max_depth": [2], "max_iter": [5],
                                "step_size": [0.3]}},  # one candidate
    }))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog, "FEATURES", TINY_CATALOGUE)
        patch.setattr(catalog, "LOOKBACK_MONTHS", 2)  # the tiny panel has 3 years, not the catalogue's 24 months
        yield root, ["--conf", str(conf_file), "--lake-dir", str(lake)]
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])


def test_train_registers_a_champion_and_retraining_from_its_run_reproduces_it(project):
    root, args = project
    assert train.main(args) == 0
    client = mlflow.MlflowClient()
    champion = version_by_alias(client, "failure_12m", CHAMPION)
    first = mlflow.get_run(champion.run_id)
    assert first.data.params["panel_version"] == "1"
    assert first.data.params["split_train_start"] == "2019-03-01"  # the tiny panel's first period + lookback
    assert first.data.params["git_commit"] == train.git_commit() != "unknown"  # the code's, not the conf's folder
    assert (root / "work" / "mlflow" / "mlflow.db").exists()  # the store named in conf, under the project

    assert train.main([*args, "--from-run", champion.run_id]) == 0
    retrained = mlflow.search_runs(filter_string=f"tags.retrained_from = '{champion.run_id}'", output_format="list")
    assert len(retrained) == 1
    again = retrained[0].data
    assert again.params["panel_version"] == "1"
    for key in ("test_auc_pr", "test_roc_auc", "test_brier", "baseline_logistic_test_auc_pr", "valid_auc_pr"):
        assert again.metrics[key] == first.data.metrics[key]
    assert again.params["threshold_high"] == first.data.params["threshold_high"]
    assert again.tags["promoted"] == "false"  # equal, not better


def test_train_fails_with_a_clear_message_when_the_panel_is_too_short(project):
    with pytest.raises(ValueError, match=r"horizon 24m: no training period"):
        train.main([*project[1], "--horizon", "24"])
