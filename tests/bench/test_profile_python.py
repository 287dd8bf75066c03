"""bench.profile_python: py-spy's samples summed per kind of process and function, and only for a
command that succeeded."""
import sys

import pytest

from bench import profile_python

RAW = [
    'process 10:"python -m jobs.score";<module> (jobs/score.py:1);run (jobs/score.py:40) 30\n',
    'process 10:"python -m jobs.score";<module> (jobs/score.py:1);run (jobs/score.py:40);wait (py4j/x.py:9) 10\n',
    'process 10:"python -m jobs.score";process 12:"java -cp x";process 14:"python -m pyspark.daemon";'
    'worker (pyspark/worker.py:5);explain (scoring/explain.py:80) 20\n',
]


def test_samples_add_up_per_process_kind_and_function():
    stacks = profile_python.parse("".join(RAW), root=10)
    found = profile_python.summarise(stacks, rate=10)
    assert found["driver"]["busy_seconds"] == 4.0
    assert found["spark_python_worker"]["busy_seconds"] == 2.0
    assert found["driver"]["self"][0] == {"function": "run (jobs/score.py)", "seconds": 3.0, "share": 0.75}
    assert found["driver"]["inclusive"][0]["function"] in ("<module> (jobs/score.py)", "run (jobs/score.py)")
    assert found["driver"]["inclusive"][0]["seconds"] == 4.0
    assert found["spark_python_worker"]["self"][0]["function"] == "explain (scoring/explain.py)"
    assert [e["function"] for e in found["spark_python_worker"]["project"]] == ["explain (scoring/explain.py)"]
    assert {e["function"] for e in found["driver"]["project"]} == {"<module> (jobs/score.py)", "run (jobs/score.py)"}


BUSY_PARENT = ("import subprocess, sys\n"
               "def spin():\n    return sum(i * i for i in range(3_000_000))\n"
               "spin()\nsubprocess.run([sys.executable, '-c', 'sum(i * i for i in range(3_000_000))'], check=True)\n")


def test_a_command_and_its_python_children_are_sampled(tmp_path):
    figures = profile_python.record([sys.executable, "-c", BUSY_PARENT], 100, tmp_path / "log", tmp_path / "raw")
    kinds = figures["by_process"]
    assert kinds["driver"]["busy_seconds"] > 0 and kinds["other_python"]["busy_seconds"] > 0
    assert any("spin" in entry["function"] for entry in kinds["driver"]["inclusive"])


def test_a_failed_command_is_an_error_not_a_profile(tmp_path):
    with pytest.raises(RuntimeError, match="exit 3"):
        profile_python.record([sys.executable, "-c", "import sys; sys.exit(3)"], 100, tmp_path / "log", tmp_path / "raw")
