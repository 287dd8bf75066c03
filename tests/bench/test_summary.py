"""bench/summary.py: rows and rates read from the stages' progress lines, slopes, the tables."""
import json

import pytest

from bench import summary


def scale_results(firms, ingest_seconds, rows):
    """A scale's results as bench_scale writes them, with two stages."""
    steps = [{"step": "ingest contributions", "seconds": ingest_seconds * 0.6, "rows_read": rows * 0.75},
             {"step": "ingest debts", "seconds": ingest_seconds * 0.4, "rows_read": rows * 0.25},
             {"step": "ingest log", "seconds": 1.0, "batches": 1}]
    stage = {"wall_seconds": ingest_seconds, "cpu_seconds": 2 * ingest_seconds, "peak_jvm_rss_mb": 1000,
             "peak_python_rss_mb": 100, "steps": steps}
    panel = {**stage, "steps": [{"step": "panel full", "seconds": 10.0, "mode": "full", "rows": firms * 60}]}
    return {"scale": "x", "firms": firms, "months": 61, "full_build_minutes": 1.0, "refresh_minutes": 0.1,
            "generate": None, "stages": {"ingest": stage, "build_panel": panel}, "references": {},
            "machine": {"cores": 2, "memory_gb": 24, "load_average": [1.0, 1.0, 1.0]}}


def test_stage_rows_and_rate_come_from_the_progress_lines():
    figures = summary.stage_figures(scale_results(1000, 20.0, 40000), "ingest")
    assert figures["rows"] == 40000 and figures["rows_per_second"] == 2000
    assert summary.stage_figures(scale_results(1000, 20.0, 40000), "build_panel")["rows"] == 60000
    assert summary.stage_figures(scale_results(1000, 20.0, 40000), "train") is None


def test_slope_is_one_when_time_grows_like_the_data():
    assert summary.slope([1000, 10000], [10.0, 100.0]) == pytest.approx(1.0)
    assert summary.slope([1000, 10000], [10.0, 1000.0]) == pytest.approx(2.0)
    assert summary.slope([1000], [10.0]) is None


def test_summary_has_a_table_per_stage_and_the_slope(tmp_path, monkeypatch):
    for name, firms, seconds in (("demo", 1000, 10.0), ("national", 10000, 100.0)):
        (tmp_path / f"{name}.json").write_text(json.dumps(scale_results(firms, seconds, firms * 40)))
    results = summary.load_results(tmp_path)
    assert list(results) == ["demo", "national"]
    text = summary.markdown(results)
    assert "## ingest" in text and "## build_panel" in text and "## train" not in text
    assert "| national | 400,000 | 100.0 | 200.0 | 4,000 | 1,000 | 100 |" in text
    assert "log-log slope: 1.00" in text
    summary.plot(results, tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").stat().st_size > 0


def test_targets_say_met_or_by_how_much_they_miss_and_why():
    results = scale_results(1000, 20.0, 40000)  # ingest at 2,000 rows/s, build 1 min, refresh 0.1 min
    targets = {"full_build_minutes": 45, "refresh_share_of_build": 0.05, "ingest_rows_per_second": 100000,
               "score_firms_per_second": 3000}
    lines = summary.target_lines(results, targets, {"ingest_rows_per_second": "per-line parsing"})
    assert "| full_build_minutes | 1.0 | at most 45 | met |  |" in lines
    assert "| refresh_share_of_build | 0.10 | at most 0.05 | missed, 2.0x off |  |" in lines
    assert "| ingest_rows_per_second | 2,000 | at least 100,000 | missed, 50.0x off | per-line parsing |" in lines
    assert "| score_firms_per_second | ? | at least 3,000 | not measured |  |" in lines
    near = summary.target_lines(results, {"full_build_minutes": 0.96}, {})
    assert "| full_build_minutes | 1.0 | at most 0.96 | missed by 4.2% |  |" in near


def test_the_whole_command_counts_generation_stages_and_references():
    results = scale_results(1000, 60.0, 40000)  # two stages of 60 s
    results["generate"] = {"wall_seconds": 30.0}
    results["references"] = {"training": {"wall_seconds": 90.0}}
    assert summary.target_figures(results)["bench_minutes"] == 4.0
    assert summary.target_figures({**results, "complete": False})["bench_minutes"] is None
    bench = {"targets": {"full_build_minutes": 45}, "scale_targets": {"region": {"bench_minutes": 20}}}
    assert summary.scale_targets(bench, "region") == {"full_build_minutes": 45, "bench_minutes": 20}
    assert summary.scale_targets(bench, "national") == {"full_build_minutes": 45}


def test_the_panel_reference_names_duckdb_and_pandas_for_one_region():
    results = scale_results(1000, 10.0, 1e5)
    results["references"] = {"panel_aggregates": {"results": {
        "aggregates": {"spark_seconds": 20.0, "duckdb_seconds": 10.0, "spark_over_duckdb": 2.0, "engines_agree": True},
        "region_aggregates": {"region": "27", "firms": 1200, "spark_seconds": 30.0, "pandas_seconds": 6.0,
                              "spark_over_pandas": 5.0, "engines_agree": True}}}}
    text = summary.reference_ratios(results)["build_panel"]
    assert "DuckDB 10.0 s (2.0x" in text and "region 27's (1,200 firms): Spark 30.0 s, pandas 6.0 s (5.0x" in text


def test_python_profiles_show_busy_seconds_and_top_functions_per_process(tmp_path):
    profile = {"command": "python -m jobs.score", "wall_seconds": 60.0, "by_process": {
        "driver": {"busy_seconds": 12.0, "self": [{"function": "run (jobs/score.py)", "seconds": 9.0, "share": 0.75}]},
        "spark_python_worker": {"busy_seconds": 30.0,
                                "self": [{"function": "explain (scoring/explain.py)", "seconds": 15.0, "share": 0.5}]}}}
    (tmp_path / "python_profile_score.json").write_text(json.dumps(profile))
    text = "\n".join(summary.python_profile_lines(summary.load_python_profiles(tmp_path)))
    assert "`score`: `python -m jobs.score`, 60.0 s wall; Python busy: driver 12.0 s, spark_python_worker 30.0 s." in text
    assert "| spark_python_worker | `explain (scoring/explain.py)` | 15.0 | 50% |" in text


def test_a_python_profiles_note_follows_its_table():
    profile = {"command": "python -m jobs.score", "wall_seconds": 1.0, "by_process": {
        "driver": {"busy_seconds": 1.0, "self": [{"function": "run (jobs/score.py)", "seconds": 1.0, "share": 1.0}]}}}
    lines = summary.python_profile_lines({"score": profile}, {"score": "The reasons are 2% of it."})
    assert lines[-2:] == ["The reasons are 2% of it.", ""]
