"""The demo's models as its MLflow store records them: per horizon the test AUC-PR beside the
baselines', the calibration (Brier score, expected calibration error), the promotion decision.

    make demo && python -m bench.demo_models [--conf FILE]    -> bench/results/demo_models.json
"""
from __future__ import annotations

import argparse

import mlflow

from bench import report
from jobs.config import load_config
from jobs.tracking import tracking_uri

METRICS = ("test_auc_pr", "baseline_logistic_test_auc_pr", "baseline_rule_test_auc_pr", "test_brier", "test_ece",
           "test_positive_rate")
TAGS = ("promoted", "below_baselines", "promotion_reason")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", default=None, help="configuration file (default conf/local.yaml)")
    conf = load_config(parser.parse_args(argv).conf)
    mlflow.set_tracking_uri(tracking_uri(conf))
    runs = mlflow.search_runs(experiment_names=[conf["mlflow"]["experiment"]], filter_string="tags.horizon != ''",
                              order_by=["start_time DESC"])
    figures = {}
    for _, run in runs.drop_duplicates("tags.horizon").iterrows():  # the latest run of each horizon
        figures[f"{run['tags.horizon']}m"] = {
            "run_id": run["run_id"],
            **{name: round(float(run[f"metrics.{name}"]), 4) for name in METRICS if f"metrics.{name}" in run},
            **{name: run.get(f"tags.{name}") for name in TAGS},
        }
    report("demo_models", {"horizons": dict(sorted(figures.items()))})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
