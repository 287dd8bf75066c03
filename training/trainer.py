"""Training of one horizon, recorded in MLflow, in the steps train_horizon calls in order:
split_and_sample (the out-of-time split and the training sample), search (the GBT grid and the alert
thresholds), evaluate_against_baselines (test metrics, baselines, plots) and register_and_promote.

The caller (jobs/train.py) points MLflow at its store and reads the panel at a known version; this
module opens one parent run per horizon, with one nested run per search candidate.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import mlflow
import mlflow.spark
from mlflow.data.delta_dataset_source import DeltaDatasetSource
from mlflow.data.spark_dataset import SparkDataset
import pandas as pd
import pyspark
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from common.observability import stage
from training import metrics, plots
from training.baselines import social_debt_rule
from training.dataset import (
    SPLITS,
    SplitWindows,
    add_class_weight,
    assign_split,
    check_split_counts,
    downsample_negatives,
    hash_draw,
    labelled_live_rows,
    labelled_periods,
    positive_weight,
    split_counts,
    split_windows,
)
from training.model import (
    assembler_inputs,
    calibrated,
    gbt_pipeline,
    gbt_stage,
    grid_candidates,
    logistic_pipeline,
    pipeline_features,
    source_feature,
    with_positive_probability,
    without_training_summary,
)
from training.profile import DRIFT_REFERENCE, reference_profile
from training.registry import (
    BELOW_BASELINES, CHAMPION, model_name, promote, promotion_decision, register_challenger, version_by_alias,
)

log = logging.getLogger(__name__)

SCORE_COL = "score"
WEIGHT_COL = "weight"
SPLIT_COL = "split"


@dataclass(frozen=True)
class FeatureSpec:
    """The model's inputs: feature names in order, their fill values (None: kept missing), themes,
    and how many months of history the features look back (training starts that far into the panel)."""

    names: list[str]
    fill_values: dict[str, float | None]
    themes: dict[str, str] = field(default_factory=dict)
    lookback_months: int = 0


@dataclass(frozen=True)
class TrainingContext:
    """Where a training's inputs come from, recorded on each parent run: the panel's Delta table
    and version, the code's git commit, the whole configuration (logged as config.json) and extra
    run tags."""

    panel_version: int
    git_commit: str
    config: Mapping
    tags: Mapping[str, str] = field(default_factory=dict)
    panel_path: str | None = None  # the panel's Delta table, logged as the runs' dataset input


@dataclass(frozen=True)
class HorizonResult:
    """What a horizon's training produced: its run, registered version and headline test metrics."""

    horizon: int
    run_id: str
    version: str
    promoted: bool
    beats_baselines: bool
    test_auc_pr: float
    baseline_auc_pr: dict[str, float]
    counts: dict[str, dict[str, float]]


@dataclass(frozen=True)
class HorizonData:
    """The prepared data of one horizon (see split_and_sample)."""

    rows: DataFrame  # labelled live rows in their split, every panel column (what a champion may read)
    windows: SplitWindows
    data: DataFrame  # `rows` reduced to the columns training reads, cached
    counts: dict[str, dict[str, float]]  # rows, positives, positive rate per split of `data`
    train: DataFrame  # the training sample, with sample weights, cached (see training_sample)
    valid: DataFrame  # the validation split of `data`
    test: DataFrame  # the test split of `data`

    @property
    def horizon(self) -> int:
        """The horizon in months."""
        return self.windows.horizon

    @property
    def label(self) -> str:
        """The horizon's label column."""
        return label_column(self.horizon)

    def unpersist(self) -> None:
        """Release the cached frames."""
        self.train.unpersist()
        self.data.unpersist()


@dataclass(frozen=True)
class SearchResult:
    """The GBT a search chose (see search)."""

    model: PipelineModel  # the GBT pipeline ending with its calibration
    params: dict[str, Any]  # its grid candidate: tree parameters and positive_weight setting
    positive_weight: float  # that setting resolved on the training split's counts
    thresholds: dict[str, float]  # alert thresholds by name, chosen on calibrated validation scores
    valid_auc_pr: float
    seconds: float  # fitting every candidate and choosing the thresholds


@dataclass(frozen=True)
class Evaluation:
    """A GBT's out-of-time test evaluation beside its baselines (see evaluate_against_baselines)."""

    summary: dict[str, float]  # the GBT's test metrics (see metrics.summary)
    curves: dict[str, metrics.Curve]  # test curves by plot legend: GBT, social debt rule, logistic
    histogram: pd.DataFrame  # the GBT's test score histogram, by region
    baselines: dict[str, dict[str, float]]  # the test metrics of each baseline: rule, logistic
    lifts: dict[str, float]  # bootstrap quantiles of the GBT's AUC-PR lead (see lift_intervals)

    @property
    def test_auc_pr(self) -> float:
        """The GBT's test AUC-PR."""
        return self.summary["auc_pr"]

    @property
    def baseline_auc_pr(self) -> dict[str, float]:
        """Each baseline's test AUC-PR, by name."""
        return {name: values["auc_pr"] for name, values in self.baselines.items()}

    @property
    def beats_baselines(self) -> bool:
        """True when the GBT's test AUC-PR is above every baseline's."""
        return all(self.test_auc_pr > value for value in self.baseline_auc_pr.values())


@dataclass(frozen=True)
class Registration:
    """A registered version and what the champion comparison decided (see register_and_promote)."""

    version: str
    promoted: bool
    champion_auc_pr: float | None  # the champion's test AUC-PR on the same rows; None without a comparable one
    below_baselines: bool = False  # promoted without beating the baselines (no champion to keep)


def label_column(horizon: int) -> str:
    """The panel's label column of a horizon."""
    return f"failure_{horizon}m"


def _log_metrics(values: Mapping[str, float], prefix: str = "") -> None:
    # NaN (e.g. a region without positives) is left out rather than shown as a number.
    mlflow.log_metrics({f"{prefix}{k}": float(v) for k, v in values.items() if v is not None and math.isfinite(v)})


def _score(model: PipelineModel, rows: DataFrame) -> DataFrame:
    return model.transform(rows).transform(with_positive_probability, SCORE_COL)


def _curve(scored: DataFrame, label: str, settings: Mapping) -> metrics.Curve:
    bins = settings["metrics"]["score_bins"]
    return metrics.curve(metrics.score_histogram(scored, SCORE_COL, label, bins), bins)


def _choose_thresholds(valid_scored: DataFrame, label: str, settings: Mapping) -> dict[str, float]:
    valid_curve = _curve(valid_scored, label, settings)
    betas = settings["thresholds"]
    return {name: metrics.best_fbeta_threshold(valid_curve, beta) for name, beta in betas.items()}


def _evaluate(scored: DataFrame, label: str, thresholds: Mapping[str, float], settings: Mapping, by_region: bool):
    """Test metrics, curve and per-group histogram of scored rows."""
    m = settings["metrics"]
    groups = [settings["region_column"]] if by_region else []
    histogram = metrics.score_histogram(scored, SCORE_COL, label, m["score_bins"], groups)
    summary = metrics.summary(histogram, m["score_bins"], thresholds, m["top_shares"], m["calibration_bins"])
    return summary, metrics.curve(histogram, m["score_bins"]), histogram


def candidate_weight(candidate: Mapping[str, Any], train_counts: Mapping[str, float]) -> float:
    """A search candidate's positive-row weight (its `positive_weight`: `balanced` or a number),
    resolved on the training split's counts before any negative sampling."""
    if "positive_weight" not in candidate:
        raise ValueError("training.search needs a positive_weight list (balanced and/or numbers)")
    return positive_weight(candidate["positive_weight"], train_counts["rows"], train_counts["positives"])


def _best_candidate(data: HorizonData, spec: FeatureSpec, settings: Mapping) -> tuple[PipelineModel, dict, float]:
    """Fit one GBT per grid candidate (one nested MLflow run each); return the best on validation
    AUC-PR, its candidate and its validation AUC-PR.

    The training sample carries sample weights (see downsample_negatives); each candidate
    multiplies its positives' weight by the candidate's `positive_weight`.
    """
    label = data.label
    best: tuple[PipelineModel, dict, float] | None = None
    for index, candidate in enumerate(grid_candidates(settings["search"])):
        with mlflow.start_run(run_name=f"gbt_candidate_{index}", nested=True):
            weight = candidate_weight(candidate, data.counts["train"])
            mlflow.log_params({**candidate, "positive_weight_value": weight})
            start = time.monotonic()
            trees = {key: value for key, value in candidate.items() if key != "positive_weight"}
            pipeline = gbt_pipeline(
                spec.names, spec.fill_values, trees, label, WEIGHT_COL, settings["seed"],
                settings["max_bins"], settings["missing_placeholder"],
            )
            model = pipeline.fit(data.train.transform(add_class_weight, label, weight, WEIGHT_COL))
            fit_seconds = time.monotonic() - start
            auc_pr = metrics.average_precision(_curve(_score(model, data.valid), label, settings))
            mlflow.log_metrics({"valid_auc_pr": auc_pr, "fit_seconds": fit_seconds})
            log.info("candidate %d %s: valid AUC-PR %.4f in %.1fs", index, candidate, auc_pr, fit_seconds)
            if best is None or auc_pr > best[2]:
                best = (model, candidate, auc_pr)
    if best is None:
        raise ValueError("training.search is empty: no candidate to fit")
    return best


def search(data: HorizonData, spec: FeatureSpec, settings: Mapping) -> SearchResult:
    """The best GBT of the search grid on validation AUC-PR (one nested MLflow run per candidate),
    calibrated on validation (`training.model.calibrated`), with its alert thresholds chosen on
    the calibrated validation scores (see SearchResult).

    Logs the choice on the active run: `gbt_<param>`, `positive_weight`, `calibration` and
    `threshold_<name>` params, `valid_auc_pr` (before calibration) and `training_seconds` metrics.
    """
    start = time.monotonic()
    raw_model, params, valid_auc_pr = _best_candidate(data, spec, settings)
    model = calibrated(raw_model, data.valid, data.label)
    thresholds = _choose_thresholds(_score(model, data.valid), data.label, settings)
    seconds = time.monotonic() - start
    result = SearchResult(
        model=model, params=params, positive_weight=candidate_weight(params, data.counts["train"]),
        thresholds=thresholds, valid_auc_pr=valid_auc_pr, seconds=seconds,
    )
    mlflow.log_params({**{f"gbt_{k}": v for k, v in params.items()}, "positive_weight": result.positive_weight,
                       "calibration": "platt on validation",
                       **{f"threshold_{k}": v for k, v in thresholds.items()}})
    _log_metrics({"valid_auc_pr": valid_auc_pr, "training_seconds": seconds})
    return result


def importances(model: PipelineModel, spec: FeatureSpec) -> tuple[pd.Series, pd.Series]:
    """Feature importances of the pipeline's GBT by assembler input, and summed by theme."""
    inputs = assembler_inputs(model)
    by_input = pd.Series(gbt_stage(model).featureImportances.toArray(), index=inputs)
    themes = [spec.themes.get(source_feature(name, spec.names), "other") for name in inputs]
    return by_input, by_input.groupby(themes).sum()


def _log_test_artifacts(scored, label, thresholds, settings, curves, histogram, model, spec, horizon) -> None:
    title = f"failure within {horizon} months, out-of-time test"
    mlflow.log_figure(plots.pr_curves(curves, f"Precision-recall, {title}"), "plots/pr_curve.png")
    mlflow.log_figure(plots.roc_curves(curves, f"ROC, {title}"), "plots/roc_curve.png")
    m = settings["metrics"]
    calibration = metrics.calibration_table(histogram, m["score_bins"], m["calibration_bins"])
    mlflow.log_figure(plots.calibration(calibration, f"Reliability, {title}"), "plots/reliability.png")
    by_input, by_theme = importances(model, spec)
    mlflow.log_figure(plots.importances(by_input, "GBT importance by feature"), "plots/importance_features.png")
    mlflow.log_figure(plots.importances(by_theme, "GBT importance by theme"), "plots/importance_themes.png")
    mlflow.log_table(by_input.rename("importance").rename_axis("feature").reset_index(), "importances.json")

    leads = metrics.lead_times(scored, thresholds, SCORE_COL, label).toPandas()
    if len(leads):
        mlflow.log_figure(plots.lead_time(leads, f"Lead time, {title}"), "plots/lead_time.png")
        for name in thresholds:
            flagged = leads[f"lead_{name}"].dropna()
            _log_metrics(
                {
                    f"test_failing_firms_flagged_share_{name}": len(flagged) / len(leads),
                    f"test_lead_time_median_months_{name}": float(flagged.median()) if len(flagged) else math.nan,
                }
            )

    regions = metrics.summary_by_group(
        histogram, settings["region_column"], m["score_bins"], thresholds, m["top_shares"], m["calibration_bins"]
    )
    mlflow.log_table(regions, "region_metrics.json")
    for row in regions.itertuples(index=False):
        region = getattr(row, settings["region_column"])
        _log_metrics({"auc_pr": row.auc_pr, "precision_top5pct": getattr(row, "precision_top5pct", math.nan)},
                     prefix="test_region_" + str(region) + "_")


def _baselines(train, valid, test, spec, label, settings):
    """Test metrics, curves and scored test rows of the social-debt rule and of the logistic
    regression (fitted on `train` with its weights: the GBT's training rows and class weight)."""
    rule = settings["baseline_rule"]
    rule_scored = test.transform(
        social_debt_rule, rule["debt_columns"], rule["contributions_column"], rule["months"], SCORE_COL
    )
    rule_summary, rule_curve, _ = _evaluate(rule_scored, label, {"flagged": 1.0}, settings, by_region=False)

    lr = settings["logistic"]
    logistic = without_training_summary(logistic_pipeline(
        spec.names, spec.fill_values, label, WEIGHT_COL, lr["max_iter"], lr["reg_param"], settings["missing_placeholder"]
    ).fit(train))
    thresholds = _choose_thresholds(_score(logistic, valid), label, settings)
    lr_scored = _score(logistic, test)
    lr_summary, lr_curve, _ = _evaluate(lr_scored, label, thresholds, settings, by_region=False)
    return (
        {"rule": rule_summary, "logistic": lr_summary},
        {"social debt rule": rule_curve, "logistic": lr_curve},
        {"rule": rule_scored, "logistic": lr_scored},
    )


def lift_intervals(scored: DataFrame, baselines: Mapping[str, DataFrame], label: str, settings: Mapping) -> dict[str, float]:
    """Bootstrap quantiles (over test firms) of the GBT's test AUC-PR minus each baseline's, as
    metrics `auc_pr_lift_over_<baseline>_p<q>`: the margin's noise, which a small test split makes large."""
    keys = ["siren", "period"]
    paired = scored.select(*keys, label, F.col(SCORE_COL).alias("gbt"))
    for name, rows in baselines.items():
        paired = paired.join(rows.select(*keys, F.col(SCORE_COL).alias(name)), keys)
    rows = paired.toPandas()  # the test split's rows, a few columns
    bootstrap = settings["metrics"]["bootstrap"]
    lifts = {}
    for name in baselines:
        interval = metrics.auc_pr_difference_interval(
            rows, "gbt", name, label, "siren", settings["metrics"]["score_bins"], bootstrap["replicates"],
            settings["seed"], bootstrap["quantiles"],
        )
        lifts.update({f"auc_pr_lift_over_{name}_p{round(q * 100):02d}": value for q, value in interval.items()})
    return lifts


def _warn_on_a_weak_lead(evaluation: Evaluation, name: str, settings: Mapping) -> None:
    # Registration goes ahead either way (the champion comparison decides promotion): the warning
    # is for whoever reads the run.
    lifts, baseline_auc_pr = evaluation.lifts, evaluation.baseline_auc_pr
    low = settings["metrics"]["bootstrap"]["quantiles"][0]
    if not evaluation.beats_baselines:
        log.warning("%s: the GBT (test AUC-PR %.4f) does not beat the baselines %s",
                    name, evaluation.test_auc_pr, baseline_auc_pr)
    elif lifts[f"auc_pr_lift_over_logistic_p{round(low * 100):02d}"] <= 0:
        log.warning("%s: the GBT's lead over the logistic baseline (%.4f AUC-PR) is within the test "
                    "split's noise (bootstrap over firms: %s)", name,
                    evaluation.test_auc_pr - baseline_auc_pr["logistic"],
                    {k: round(v, 4) for k, v in lifts.items() if "logistic" in k})


def evaluate_against_baselines(
    data: HorizonData, searched: SearchResult, spec: FeatureSpec, settings: Mapping
) -> Evaluation:
    """The searched GBT's out-of-time test metrics beside the social-debt rule's and a logistic
    regression's (fitted on the GBT's training sample and class weight), with bootstrap intervals
    of its lead (see Evaluation).

    Logs on the active run: `test_*` and `baseline_<name>_test_*` metrics, the lift intervals, the
    plots and tables of _log_test_artifacts and the `beats_baselines` tag; warns when the GBT does
    not beat the baselines, or leads the logistic one within the test split's noise.
    """
    label, model, thresholds = data.label, searched.model, searched.thresholds
    scored = _score(model, data.test).cache()  # read by the metrics, the lead times and the lift intervals
    try:
        summary, curve, histogram = _evaluate(scored, label, thresholds, settings, by_region=True)
        _log_metrics(summary, prefix="test_")
        weighted_train = data.train.transform(add_class_weight, label, searched.positive_weight, WEIGHT_COL)
        baselines, baseline_curves, baseline_scored = _baselines(
            weighted_train, data.valid, data.test, spec, label, settings
        )
        for baseline, values in baselines.items():
            _log_metrics(values, prefix=f"baseline_{baseline}_test_")
        lifts = lift_intervals(scored, baseline_scored, label, settings)
        _log_metrics(lifts, prefix="test_")
        curves = {"GBT": curve, **baseline_curves}
        _log_test_artifacts(scored, label, thresholds, settings, curves, histogram, model, spec, data.horizon)
    finally:
        scored.unpersist()
    evaluation = Evaluation(summary=summary, curves=curves, histogram=histogram, baselines=baselines, lifts=lifts)
    mlflow.set_tag("beats_baselines", str(evaluation.beats_baselines).lower())
    _warn_on_a_weak_lead(evaluation, model_name(data.horizon), settings)
    return evaluation


def _champion_auc_pr(client: MlflowClient, name: str, test: DataFrame, label: str, settings: Mapping) -> float | None:
    """Test AUC-PR of the current champion on `test` (the test rows with every panel column); None
    without a champion, or when it reads a column the panel no longer has."""
    champion = version_by_alias(client, name, CHAMPION)
    if champion is None:
        return None
    model = mlflow.spark.load_model(f"models:/{name}/{champion.version}")
    missing = sorted(set(pipeline_features(model)) - set(test.columns))
    if missing:
        log.warning("%s champion version %s reads columns the panel lacks (%s): not comparable",
                    name, champion.version, ", ".join(missing))
        return None
    summary, _, _ = _evaluate(_score(model, test), label, {}, settings, by_region=False)
    return summary["auc_pr"]


def drift_reference(data: HorizonData, model: PipelineModel, spec: FeatureSpec, settings: Mapping) -> dict:
    """The model's reference for the drift watch (training/profile.py): its training split's rows,
    all of them (not the negative sample) up to `drift_reference.rows`, a hash sample of firm-months
    beyond; the importance summed by feature (a missing indicator counts for its feature)."""
    config = settings["drift_reference"]
    rows = data.data.filter(F.col(SPLIT_COL) == "train")
    available = data.counts["train"]["rows"]
    if available > config["rows"]:
        rows = rows.filter(hash_draw(("siren", "period"), settings["seed"]) < config["rows"] / available)
    by_input, _ = importances(model, spec)
    by_feature = by_input.groupby([source_feature(name, spec.names) for name in by_input.index]).sum()
    # The pipeline fills missing values in place: profile the panel's own values, as the watch
    # sees them in a scored month, beside the score.
    region = settings["region_column"]
    raw = rows.select(F.struct(*spec.names).alias("_raw"), *rows.columns)
    # Cached: the quantiles and the two binnings read it, each would score the rows again.
    scored = _score(model, raw).select("_raw.*", region, SCORE_COL).cache()
    try:
        return reference_profile(scored, spec.names, by_feature.to_dict(), SCORE_COL, region, config["bins"],
                                 config["relative_error"])
    finally:
        scored.unpersist()


def pip_requirements() -> list[str]:
    """What loading the model needs, pinned to the running versions (explicit: inferring them would
    start a second JVM to load the model)."""
    return [f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}"]


def _log_model(model: PipelineModel, test: DataFrame, spec: FeatureSpec, settings: Mapping) -> str:
    example = test.select(*spec.names).limit(settings["input_example_rows"])
    output = model.transform(example).select("prediction").toPandas()
    example_pdf = example.toPandas()
    info = mlflow.spark.log_model(
        model,
        artifact_path="model",
        signature=infer_signature(example_pdf, output),
        input_example=example_pdf,
        pip_requirements=pip_requirements(),
    )
    return info.model_uri


def register_and_promote(
    client: MlflowClient, data: HorizonData, model: PipelineModel, evaluation: Evaluation, spec: FeatureSpec,
    settings: Mapping,
) -> Registration:
    """Log `model` in the active run, register it as the horizon's challenger, and promote it to
    champion through the gate of `training.registry.promotion_decision`: its test AUC-PR
    (`evaluation`) must beat the baselines' and the current champion's on the same test rows;
    without a comparable champion it is promoted, tagged `below_baselines=true` when it does not
    beat the baselines. Returns the version and the decision.

    Logs the `champion_test_auc_pr` metric (when there was a champion to compare) and the
    `promoted`, `model_version` and `below_baselines` tags (the last on the version too).
    """
    name = model_name(data.horizon)
    model_uri = _log_model(model, data.test, spec, settings)
    version = register_challenger(client, name, model_uri, mlflow.active_run().info.run_id)
    # Every panel column: the champion may read features this training does not.
    panel_test = data.rows.filter(F.col(SPLIT_COL) == "test")
    champion_auc_pr = _champion_auc_pr(client, name, panel_test, data.label, settings)
    decision = promotion_decision(evaluation.test_auc_pr, evaluation.baseline_auc_pr, champion_auc_pr)
    if champion_auc_pr is not None:
        _log_metrics({"champion_test_auc_pr": champion_auc_pr})
    below = str(decision.below_baselines).lower()
    client.set_model_version_tag(name, version.version, BELOW_BASELINES, below)
    if decision.promoted:
        promote(client, name, version.version)
    (log.warning if decision.below_baselines else log.info)(
        "%s version %s %s: %s", name, version.version, "promoted" if decision.promoted else "not promoted",
        decision.reason)
    mlflow.set_tags({"promoted": str(decision.promoted).lower(), "model_version": version.version,
                     BELOW_BASELINES: below, "promotion_reason": decision.reason})
    return Registration(version=str(version.version), promoted=decision.promoted, champion_auc_pr=champion_auc_pr,
                        below_baselines=decision.below_baselines)


def split_rows(panel: DataFrame, horizon: int, spec: FeatureSpec, settings: Mapping) -> tuple[DataFrame, SplitWindows]:
    """The labelled live rows of a horizon in their split (every panel column, plus `split`) and the windows."""
    label, split = label_column(horizon), settings["split"]
    rows = labelled_live_rows(panel, label)
    windows = split_windows(
        *labelled_periods(rows), horizon, split["test_months"], split["valid_months"], spec.lookback_months
    )
    return rows.transform(
        assign_split, windows, split["siren_salt"], split["valid_siren_share"], split["test_siren_share"], SPLIT_COL
    ), windows


def prepare(rows: DataFrame, horizon: int, windows: SplitWindows, spec: FeatureSpec, settings: Mapping):
    """The split rows (see split_rows) reduced to the columns training reads (cached), and the
    split counts.

    The rows are laid out canonically (hashed by firm and month into the session's shuffle
    partitions, sorted within each): the trees' split candidates and sums depend on the order
    rows reach them, and two lakes of the same panel (a local and a cluster run) have different
    files. Same rows and same partition count, same model.

    Raises a ValueError naming the split when one has too few positives.
    """
    label, rule = label_column(horizon), settings["baseline_rule"]
    keep = list(dict.fromkeys(
        ["siren", "period", settings["region_column"], "failure_date", label, *spec.names,
         *rule["debt_columns"], rule["contributions_column"], SPLIT_COL]
    ))
    partitions = int(rows.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    data = rows.select(*keep).repartition(partitions, "siren", "period").sortWithinPartitions("siren", "period")
    counts = split_counts(data, label, SPLIT_COL)
    check_split_counts(counts, horizon, windows, settings["split"]["min_positives"])
    return data.cache(), counts


def training_sample(data: DataFrame, label: str, settings: Mapping) -> DataFrame:
    """The training split's rows the models fit on, with sample weights: every positive, and the
    `negative_fraction` of the negatives weighted 1 / fraction (cached)."""
    train = data.filter(F.col(SPLIT_COL) == "train").withColumn(WEIGHT_COL, F.lit(1.0))
    return train.transform(
        downsample_negatives, label, settings["negative_fraction"], settings["seed"], WEIGHT_COL
    ).cache()


def split_and_sample(panel: DataFrame, horizon: int, spec: FeatureSpec, settings: Mapping) -> HorizonData:
    """The data of `horizon` on `panel`: its labelled live rows split by window and firm, reduced to
    training's columns, counted, and the training sample the models fit on (see HorizonData; the
    caller unpersists it).

    Raises a ValueError naming the split when one has too few positives.
    """
    rows, windows = split_rows(panel, horizon, spec, settings)
    data, counts = prepare(rows, horizon, windows, spec, settings)
    train = training_sample(data, label_column(horizon), settings)
    valid, test = (data.filter(F.col(SPLIT_COL) == split) for split in SPLITS[1:])
    return HorizonData(rows=rows, windows=windows, data=data, counts=counts, train=train, valid=valid, test=test)


def _log_run_inputs(data: HorizonData, spec: FeatureSpec, settings: Mapping, context: TrainingContext) -> None:
    # Everything a retrain needs (training_spec.json, see jobs/train.py --from-run) and the split's size.
    horizon, name = data.horizon, model_name(data.horizon)
    mlflow.set_tags({"horizon": str(horizon), "model_name": name, **context.tags})
    mlflow.log_params({
        "horizon": horizon, "panel_version": context.panel_version, "git_commit": context.git_commit,
        "label": data.label, "n_features": len(spec.names), "negative_fraction": settings["negative_fraction"],
        **data.windows.as_params(),
    })
    mlflow.log_dict(dict(context.config), "config.json")
    mlflow.log_dict(
        {"horizon": horizon, "panel_version": context.panel_version, "features": asdict(spec),
         "training": dict(settings)},
        "training_spec.json",
    )
    for split, values in data.counts.items():
        _log_metrics(values, prefix=f"{split}_")
    if context.panel_path:
        rows = int(sum(values["rows"] for values in data.counts.values()))
        mlflow.log_input(panel_dataset(data.rows, context.panel_path, context.panel_version, rows), context="training")


class _CountedSparkDataset(SparkDataset):
    """A SparkDataset whose profile is a row count already known: MLflow's own profile counts the
    table through Python workers, a job that goes on running past its timeout on a national panel."""

    def __init__(self, rows: int, **kwargs):
        super().__init__(**kwargs)
        self._rows = rows

    @property
    def profile(self) -> dict:
        """The labelled rows of the horizon (its splits' rows)."""
        return {"approx_count": self._rows}


def panel_dataset(rows: DataFrame, path: str, version: int, count: int) -> SparkDataset:
    """The panel's Delta table at `version` as an MLflow dataset (source `delta_table`, name
    `panel@v<version>`), for the runs table's Dataset column; `rows` are the frame trained on and
    `count` their number."""
    source = DeltaDatasetSource(path=path, delta_table_version=version)
    return _CountedSparkDataset(count, df=rows, source=source, name=f"panel@v{version}")


def train_horizon(
    panel: DataFrame,
    horizon: int,
    spec: FeatureSpec,
    settings: Mapping,
    client: MlflowClient,
    context: TrainingContext,
) -> HorizonResult:
    """Train, evaluate, log, register and maybe promote the model of `horizon` on `panel`; returns
    the summary of its run.

    split_and_sample, then in a parent MLflow run named `failure_<h>m` (current experiment): the
    run's inputs, search, evaluate_against_baselines, register_and_promote.
    """
    spark, name = panel.sparkSession, model_name(horizon)
    with stage(spark, f"train {name}: split"):
        data = split_and_sample(panel, horizon, spec, settings)
    try:
        with mlflow.start_run(run_name=name) as run:
            _log_run_inputs(data, spec, settings, context)

            with stage(spark, f"train {name}: search"):
                searched = search(data, spec, settings)

            with stage(spark, f"train {name}: evaluate"):
                evaluation = evaluate_against_baselines(data, searched, spec, settings)

            with stage(spark, f"train {name}: drift reference"):
                mlflow.log_dict(drift_reference(data, searched.model, spec, settings), DRIFT_REFERENCE)

            with stage(spark, f"train {name}: register"):
                registration = register_and_promote(client, data, searched.model, evaluation, spec, settings)
    finally:
        data.unpersist()
    return HorizonResult(
        horizon=horizon, run_id=run.info.run_id, version=registration.version, promoted=registration.promoted,
        beats_baselines=evaluation.beats_baselines, test_auc_pr=evaluation.test_auc_pr,
        baseline_auc_pr=evaluation.baseline_auc_pr, counts=data.counts,
    )
