"""Back-test: score a range of past months with given model versions and measure how early the
alerts came.

    python -m jobs.backtest --from 2022-01 --to 2023-12 [--models failure_18m:3,failure_12m:2]

Each month is scored as jobs.score would have scored it (the same alert policy, first alerts and
caps read from the back-test's own earlier months) into `lake/backtest`, partitioned by region and
period and keyed by the model versions; `lake/scores` is never touched. Each month's drift watch
goes to `lake/monitoring` under the source `backtest`. Re-running a range replaces its months.

Against the failures the panel knows, it reports (docs/TABLES.md, "Back-test"): for failures with
`backtest.months_before` back-tested months before them, the quartiles of the months of warning
(first high alert, first alert of any level, in the `backtest.lead_window_months` months before;
0 when none came) and the share warned `backtest.ahead_months` or more months ahead; the precision
of high alerts within `backtest.precision_horizon` months where those months are observed; new
high alerts per month and region. Logged as an MLflow run tagged `run_kind=backtest` (metrics,
plots, tables) and printed.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Mapping, Sequence

import mlflow
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from common.observability import stage
from features.calendar import month_range, parse_year_month
from jobs import delta_io, preflight
from jobs.cli import base_parser, config_from_args, exit_with_status, progress
from jobs.config import Config
from jobs.lake import Lake
from jobs.score import alert_policy, check_in_panel, load_champions, score_month
from jobs.session import build_session
from jobs.tracking import configure_mlflow
from scoring import backtest, drift
from scoring.score import model_version_label
from training import plots

log = logging.getLogger(__name__)

RUN_KIND = "backtest"  # tag `run_kind` of the back-test's MLflow runs


def parse_models(text: str | None) -> dict[str, str]:
    """`failure_18m:3,failure_12m:2` as {model name: version}; empty for None or ''."""
    if not text:
        return {}
    models = {}
    for item in text.split(","):
        name, _, version = item.strip().partition(":")
        if not name or not version.isdigit():
            raise ValueError(f"expected --models as name:version[,name:version], got {item!r}")
        models[name] = version
    return models


def report(spark: SparkSession, conf: Config, versions: str, first: dt.date, last: dt.date) -> dict:
    """The back-test's measures over `first`..`last` for the models `versions` (see the module):
    `metrics` (flat, for MLflow), `leads` (one row per measured failure), `precision` (per month),
    `new_high` (per month and region), as pandas frames."""
    lake, settings = Lake.from_conf(conf), conf["backtest"]
    panel = delta_io.read(spark, lake.panel)
    scores = delta_io.read(spark, lake.backtest).where(
        (F.col("model_version") == versions) & F.col("period").between(F.lit(first), F.lit(last))
    )
    failures = backtest.measured_failures(panel, first, last, settings["months_before"])
    leads = backtest.lead_times(scores, failures, settings["lead_window_months"]).toPandas()
    label = f"failure_{settings['precision_horizon']}m"
    if label not in panel.columns:
        raise ValueError(f"backtest.precision_horizon {settings['precision_horizon']}: the panel has no {label} "
                         f"label (its labels follow conf `horizons`: {conf['horizons']})")
    precision = backtest.high_alert_precision(scores, panel, label).orderBy("period").toPandas()
    new_high = backtest.new_high_alerts(scores).orderBy("period", "region").toPandas()
    metrics = backtest.lead_summary(leads.to_dict("records"), settings["ahead_months"])
    observed = precision["high_alerts_observed"].sum()
    metrics.update(
        high_alerts_observed=float(observed),
        precision_high=float((precision["precision_high"] * precision["high_alerts_observed"]).sum() / observed)
        if observed else float("nan"),
        new_high_alerts_per_month=new_per_month(new_high, first, last),
    )
    return {"metrics": metrics, "leads": leads, "precision": precision, "new_high": new_high}


def new_per_month(new_high: pd.DataFrame, first: dt.date, last: dt.date) -> float:
    """New high alerts per month over all regions, from the back-test's second month on: in its
    first month, with no month before it, every high alert counts as new (nan for a single month)."""
    later = month_range(first, last)[1:]
    if not later:
        return float("nan")
    periods = pd.to_datetime(new_high["period"]).dt.date
    return float(new_high.loc[periods > first, "new_high_alerts"].sum() / len(later))


def log_report(found: Mapping, first: dt.date, last: dt.date, versions: str, drifting: Sequence[str],
               settings: Mapping) -> str:
    """Log the report as an MLflow run (current experiment) tagged run_kind=backtest; its id."""
    span = f"{first:%Y-%m}..{last:%Y-%m}"
    with mlflow.start_run(run_name=f"backtest {span}", tags={"run_kind": RUN_KIND, "model_version": versions}) as run:
        mlflow.log_params({"from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}", "models": versions,
                           "drifting_months": ",".join(drifting) or "none", **{f"backtest_{k}": v for k, v in settings.items()}})
        mlflow.log_metrics({k: v for k, v in found["metrics"].items() if pd.notna(v)})
        mlflow.log_figure(plots.lead_time(found["leads"][list(backtest.LEAD_COLUMNS)],
                                          f"Months of warning before failure, back-test {span}"),
                          "plots/backtest_lead_time.png")
        mlflow.log_figure(plots.precision_by_month(found["precision"], settings["precision_horizon"]),
                          "plots/backtest_precision_by_month.png")
        mlflow.log_figure(plots.alerts_by_month_and_region(found["new_high"]),
                          "plots/backtest_new_high_alerts.png")
        for name in ("leads", "precision", "new_high"):
            mlflow.log_table(found[name].astype({c: str for c in found[name].columns if "period" in c}),
                             f"backtest_{name}.json")
    return run.info.run_id


def printed(found: Mapping, first: dt.date, last: dt.date, versions: str) -> str:
    """The report as a plain-text table for the terminal."""
    m = found["metrics"]
    lines = [f"back-test {first:%Y-%m}..{last:%Y-%m} with {versions}",
             f"  failures measured (12 back-tested months before them): {m['failures_measured']:.0f}"]
    for lead, words in (("lead_high", "first high alert"), ("lead_any", "first alert of any level")):
        lines.append(f"  months of warning, {words}: median {m[f'{lead}_months_p50']:.1f} "
                     f"(quartiles {m[f'{lead}_months_p25']:.1f} to {m[f'{lead}_months_p75']:.1f})")
    ahead = next(k for k in m if k.startswith("lead_any_share_"))
    lines.append(f"  share warned {ahead.split('_')[3]} or more ahead: any level {m[ahead]:.1%}, "
                 f"high {m[ahead.replace('lead_any', 'lead_high')]:.1%}")
    lines.append(f"  precision of high alerts (observed): {m['precision_high']:.1%} "
                 f"over {m['high_alerts_observed']:.0f} alerts")
    lines.append(f"  new high alerts per month after the first, all regions: {m['new_high_alerts_per_month']:.1f}")
    table = found["new_high"].pivot_table(index="period", columns="region", values="new_high_alerts", fill_value=0)
    lines.append("  new high alerts per month and region:")
    lines.extend("    " + line for line in table.to_string().splitlines())
    return "\n".join(lines)


def run(spark: SparkSession, conf: Config, first: dt.date, last: dt.date, models: Mapping[str, str] | None = None) -> dict:
    """Back-test `first`..`last` with `models` (name -> version; the champions otherwise); return
    the months scored, the models, the report's metrics, the drifting months and the run id."""
    if last < first:
        raise ValueError(f"--to {last:%Y-%m} is before --from {first:%Y-%m}")
    client = configure_mlflow(conf)
    lake = Lake.from_conf(conf)
    periods = month_range(first, last)
    check_in_panel(spark, lake, periods)
    champions = load_champions(client, conf["horizons"], conf["scoring"]["model_alias"], models)
    versions = model_version_label(champions)
    policy = alert_policy(conf, champions)
    panel = delta_io.read(spark, lake.panel)
    drifting = []
    for period in periods:
        month = period.isoformat()[:7]
        with progress(f"backtest {month}") as counts, stage(spark, f"backtest {month}"):
            counts.update(period=month, **score_month(spark, conf, panel, period, champions, policy, lake.backtest,
                                                       drift.BACKTEST))
            if counts["drifting"]:
                drifting.append(month)
    with progress("backtest: report") as counts:
        found = report(spark, conf, versions, first, last)
        run_id = log_report(found, first, last, versions, drifting, conf["backtest"])
        counts.update(run=run_id, failures=int(found["metrics"]["failures_measured"]))
    print(printed(found, first, last, versions))
    return {"periods": [p.isoformat()[:7] for p in periods], "models": versions, "metrics": found["metrics"],
            "drifting": drifting, "run_id": run_id}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: backtest --from YYYY-MM --to YYYY-MM [--models name:version,...]."""
    parser = base_parser("Score past months with given models into lake/backtest and measure the alerts' lead.")
    parser.add_argument("--from", dest="first", required=True, help="first month to back-test, YYYY-MM")
    parser.add_argument("--to", dest="last", required=True, help="last month to back-test, YYYY-MM")
    parser.add_argument("--models", default=None,
                        help="model versions, e.g. failure_12m:3,failure_18m:2 (default: the champions)")
    args = parser.parse_args(argv)
    conf = config_from_args(args)
    first, last, models = parse_year_month(args.first), parse_year_month(args.last), parse_models(args.models)
    preflight.check(conf, uses_mlflow=True)
    spark = build_session(conf, app_name="backtest")
    run(spark, conf, first, last, models)
    return 0


def cli() -> None:
    exit_with_status(main)


if __name__ == "__main__":
    cli()
