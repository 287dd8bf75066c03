"""The demo's latest back-test as its MLflow store records it: the months and models back-tested,
the lead times, the precision of high alerts, new high alerts per month, the drifting months, and
the test metrics (AUC-PR, calibration) of the models it used.

    make demo && python -m jobs.backtest --from 2022-01 --to 2023-12
    python -m bench.demo_backtest [--conf FILE]     -> bench/results/demo_backtest.json
"""
from __future__ import annotations

import argparse

import mlflow

from bench import report
from bench.demo_models import METRICS as MODEL_METRICS
from jobs.backtest import RUN_KIND, parse_models
from jobs.config import load_config
from jobs.tracking import tracking_uri


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", default=None, help="configuration file (default conf/local.yaml)")
    conf = load_config(parser.parse_args(argv).conf)
    mlflow.set_tracking_uri(tracking_uri(conf))
    client = mlflow.MlflowClient()
    runs = mlflow.search_runs(search_all_experiments=True, filter_string=f"tags.run_kind = '{RUN_KIND}'",
                              order_by=["start_time DESC"], max_results=1)
    if runs.empty:
        raise SystemExit("no back-test run: python -m jobs.backtest --from YYYY-MM --to YYYY-MM")
    run = client.get_run(runs.iloc[0]["run_id"])
    models = {}
    for name, version in parse_models(run.data.params["models"]).items():
        trained = client.get_run(client.get_model_version(name, version).run_id).data.metrics
        models[f"{name}:{version}"] = {m: round(trained[m], 4) for m in MODEL_METRICS if m in trained}
    report("demo_backtest", {
        "run_id": run.info.run_id,
        "from": run.data.params["from"], "to": run.data.params["to"],
        "drifting_months": run.data.params["drifting_months"],
        "metrics": {k: round(v, 4) for k, v in sorted(run.data.metrics.items())},
        "models": models,
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
