"""A bad configuration fails before any work, with one line naming what is wrong."""
import socket
import types

import pytest
import yaml

from jobs import ingest, pipeline
from jobs.config import load_config
from jobs.preflight import (
    PreflightError, check_delta_classes, check_keys, check_master, check_mlflow, check_writable_folder,
)


def write_conf(folder, data, extends):
    """A conf file in `folder` extending the project's `extends` file."""
    path = folder / "conf" / "run.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"extends": str(extends), **data}))
    return path


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_misspelled_key_is_named_with_the_key_it_resembles(conf):
    reference = conf.reference
    with pytest.raises(PreflightError, match=r"conf key scoring\.alert_horizn is unknown \(did you mean "
                                             r"scoring\.alert_horizon\?\)"):
        check_keys({**conf, "scoring": {**conf["scoring"], "alert_horizn": 18}}, reference)
    with pytest.raises(PreflightError, match=r"conf key trainning is unknown \(did you mean training\?\)"):
        check_keys({**conf, "trainning": {}}, reference)
    # Free sections take any key: Spark settings, regional caps.
    check_keys({**conf, "spark": {**conf["spark"], "settings": {"spark.any.key": "1"}}}, reference)


def test_a_missing_key_is_named_unless_set_to_null_on_purpose(conf):
    reference = conf.reference
    without = {**conf, "mlflow": {k: v for k, v in conf["mlflow"].items() if k != "experiment"}}
    with pytest.raises(PreflightError, match=r"conf key mlflow\.experiment is missing"):
        check_keys(without, reference)
    check_keys(without, reference, frozenset({("mlflow", "experiment")}))


def test_the_shipped_confs_pass_and_a_job_stops_on_a_bad_key_before_any_work(tmp_path):
    for name in ("local", "cluster", "bench"):
        loaded = load_config(f"conf/{name}.yaml")
        check_keys(loaded, loaded.reference, loaded.removed)
    bad = write_conf(tmp_path, {"ingest": {"default_encodng": "utf-8"}}, load_config().root / "conf" / "local.yaml")
    with pytest.raises(PreflightError, match=r"ingest\.default_encodng is unknown \(did you mean ingest\.default_encoding"):
        ingest.main(["--conf", str(bad), "--raw-dir", str(tmp_path), "--lake-dir", str(tmp_path / "lake")])


def test_a_lake_that_does_not_exist_or_cannot_be_written_is_refused(tmp_path):
    check_writable_folder(tmp_path / "lake", "lake folder")  # created by the first write
    with pytest.raises(PreflightError, match=r"lake folder .*/mounted/lake does not exist, nor does its parent"):
        check_writable_folder(tmp_path / "mounted" / "lake", "lake folder")
    with pytest.raises(PreflightError, match=r"lake folder /proc cannot be written"):
        check_writable_folder(__import__("pathlib").Path("/proc"), "lake folder")


def test_an_unreachable_master_is_refused_and_a_listening_one_passes():
    port = free_port()
    with pytest.raises(PreflightError, match=rf"Spark master spark://127.0.0.1:{port} cannot be reached"):
        check_master(f"spark://127.0.0.1:{port}")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_master(f"spark://127.0.0.1:{server.getsockname()[1]}")
    check_master("local[2]")


def test_missing_delta_classes_are_named():
    def missing(name):
        raise RuntimeError(f"ClassNotFoundException: {name}")

    jvm = types.SimpleNamespace(java=types.SimpleNamespace(lang=types.SimpleNamespace(
        Class=types.SimpleNamespace(forName=missing))))
    with pytest.raises(PreflightError, match=r"Delta Lake's classes .* are not on the driver's classpath"):
        check_delta_classes(jvm)


def test_an_unreachable_tracking_server_is_refused(conf, tmp_path):
    port = free_port()
    unreachable = conf.with_overrides()
    unreachable["mlflow"] = {**conf["mlflow"], "tracking_uri": f"http://127.0.0.1:{port}"}
    with pytest.raises(PreflightError, match=rf"MLflow tracking server http://127.0.0.1:{port} cannot be reached"):
        check_mlflow(unreachable)
    unwritable = conf.with_overrides()
    unwritable["mlflow"] = {**conf["mlflow"], "tracking_uri": "sqlite:////proc/mlflow/mlflow.db"}
    with pytest.raises(PreflightError, match=r"MLflow store folder /proc cannot be written"):
        check_mlflow(unwritable)


def test_the_pipeline_checks_its_tracking_store_before_any_work(tmp_path):
    port = free_port()
    with pytest.raises(PreflightError, match=r"MLflow tracking server .* cannot be reached"):
        pipeline.main(["--raw-dir", str(tmp_path), "--lake-dir", str(tmp_path / "lake"),
                       "--mlflow-uri", f"http://127.0.0.1:{port}"])
