"""Training rows and the out-of-time split: which panel rows train, validate and test a horizon.

The split has two axes, both decided here:
- time: for a horizon h and the last labelled period L, the test window is the last `test_months`
  periods up to L, validation the `valid_months` before it, and training every period up to
  `valid_start - (h + 1)` months, so a training row's label window (p, p + h] ends before the
  validation window and the test window start: no training label sees a failure of those windows.
  Every window starts `lookback_months` after the panel's first period: before that, a row's lags
  and trends reach before the data begin and are missing for that reason alone, which in the
  training window would teach the model the calendar (missing history = the data's first years);
- firms: each SIREN falls in one group (train, valid or test) by a salted hash of its number, so no
  SIREN is in two splits, and a firm keeps its group across retrains while the salt stays the same
  (which keeps the comparison of a challenger with an older champion honest).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.calendar import add_months

SPLITS = ("train", "valid", "test")
# Hash buckets per unit of share: fine enough for shares such as 0.15.
HASH_BUCKETS = 10_000


@dataclass(frozen=True)
class SplitWindows:
    """The periods (first days of months, inclusive) of each split of one horizon."""

    horizon: int
    train_start: dt.date
    train_end: dt.date
    valid_start: dt.date
    valid_end: dt.date
    test_start: dt.date
    test_end: dt.date

    def as_params(self) -> dict[str, str]:
        """The windows as MLflow params (`split_train_end`, ...), ISO dates."""
        return {f"split_{key}": value.isoformat() for key, value in vars(self).items() if key != "horizon"}


def split_windows(
    first_period: dt.date,
    last_labelled: dt.date,
    horizon: int,
    test_months: int,
    valid_months: int,
    lookback_months: int = 0,
) -> SplitWindows:
    """The split windows of `horizon` for labelled periods from `first_period` to `last_labelled`.

    Test: the last `test_months` periods up to `last_labelled`; validation: the `valid_months`
    periods just before; training: from `lookback_months` after `first_period` (the first period
    whose features see a full history) up to `valid_start - (horizon + 1)` months. Raises a
    ValueError when that leaves no training period.
    """
    if test_months < 1 or valid_months < 1:
        raise ValueError("test_months and valid_months must be at least 1")
    test_start = add_months(last_labelled, -(test_months - 1))
    valid_start = add_months(test_start, -valid_months)
    train_start, train_end = add_months(first_period, lookback_months), add_months(valid_start, -(horizon + 1))
    if train_start > train_end:
        raise ValueError(
            f"horizon {horizon}m: no training period: the panel's periods {first_period}..{last_labelled} "
            f"leave training from {train_start} (first period with {lookback_months} months of history) "
            f"to {train_end} (before validation and test, with the horizon's gap); a longer panel is needed"
        )
    return SplitWindows(
        horizon=horizon,
        train_start=train_start,
        train_end=train_end,
        valid_start=valid_start,
        valid_end=add_months(test_start, -1),
        test_start=test_start,
        test_end=add_months(last_labelled, 0),
    )


def labelled_live_rows(panel: DataFrame, label_col: str, after_failure_col: str = "after_failure") -> DataFrame:
    """The panel rows a horizon can learn from: label observed and firm not at or after its failure.

    Same grain as the panel (siren, period).
    """
    return panel.filter(F.col(label_col).isNotNull() & ~F.col(after_failure_col))


def labelled_periods(rows: DataFrame, period_col: str = "period") -> tuple[dt.date, dt.date]:
    """The first and last periods among `rows` (labelled rows of one horizon); raises if there is none."""
    first, last = rows.agg(F.min(period_col), F.max(period_col)).first()
    if last is None:
        raise ValueError("the panel has no labelled row for this horizon")
    return first, last


def siren_group(siren: Column, salt: str, valid_share: float, test_share: float) -> Column:
    """Spark column: `train`, `valid` or `test`, from a salted hash of the SIREN (stable across runs)."""
    if valid_share <= 0 or test_share <= 0 or valid_share + test_share >= 1:
        raise ValueError("valid_share and test_share must be positive and sum to less than 1")
    unit = F.pmod(F.xxhash64(F.lit(salt), siren), F.lit(HASH_BUCKETS)) / HASH_BUCKETS
    return (
        F.when(unit < test_share, F.lit("test"))
        .when(unit < test_share + valid_share, F.lit("valid"))
        .otherwise(F.lit("train"))
    )


def assign_split(
    rows: DataFrame,
    windows: SplitWindows,
    salt: str,
    valid_share: float,
    test_share: float,
    split_col: str = "split",
    siren_col: str = "siren",
    period_col: str = "period",
) -> DataFrame:
    """`rows` with a `split_col` (train, valid or test); rows outside their group's window are dropped.

    A row is kept when its SIREN's group is its period's window: training firms from `train_start`
    to `train_end`, validation firms in the validation window, test firms in the test window.
    """
    period = F.col(period_col)
    window_of_period = (
        F.when(period.between(F.lit(windows.train_start), F.lit(windows.train_end)), F.lit("train"))
        .when(period.between(F.lit(windows.valid_start), F.lit(windows.valid_end)), F.lit("valid"))
        .when(period.between(F.lit(windows.test_start), F.lit(windows.test_end)), F.lit("test"))
    )
    group = siren_group(F.col(siren_col), salt, valid_share, test_share)
    return rows.withColumn(split_col, group).filter(F.col(split_col) == window_of_period)


def split_counts(data: DataFrame, label_col: str, split_col: str = "split") -> dict[str, dict[str, float]]:
    """Rows, positives and positive rate per split (every split of SPLITS present, zeros if empty)."""
    found = {
        row[split_col]: (row["rows"], row["positives"] or 0)
        for row in data.groupBy(split_col)
        .agg(F.count(F.lit(1)).alias("rows"), F.sum(F.col(label_col).cast("long")).alias("positives"))
        .collect()
    }
    counts = {}
    for split in SPLITS:
        rows, positives = found.get(split, (0, 0))
        counts[split] = {"rows": rows, "positives": positives, "positive_rate": positives / rows if rows else 0.0}
    return counts


def check_split_counts(counts: dict[str, dict[str, float]], horizon: int, windows: SplitWindows, min_positives: int) -> None:
    """Raise a ValueError naming the split when one has fewer than `min_positives` positive rows."""
    for split in SPLITS:
        if counts[split]["positives"] < max(min_positives, 1):
            raise ValueError(
                f"horizon {horizon}m: the {split} split has {counts[split]['rows']} rows and "
                f"{counts[split]['positives']} positives (at least {max(min_positives, 1)} needed); "
                f"windows {windows.as_params()}: the panel is too short for this horizon or the "
                f"split settings (training.split) leave too little data"
            )


def add_class_weight(data: DataFrame, label_col: str, positive_weight: float, weight_col: str = "weight") -> DataFrame:
    """`data` with `weight_col` multiplied by `positive_weight` on positive rows; without that
    column, every row starts at weight 1 (so negatives get 1 and positives `positive_weight`)."""
    base = F.col(weight_col) if weight_col in data.columns else F.lit(1.0)
    return data.withColumn(
        weight_col, F.when(F.col(label_col) == 1, base * F.lit(float(positive_weight))).otherwise(base)
    )


def positive_weight(setting: float | str, rows: int, positives: int) -> float:
    """The weight of a positive row: `balanced` gives negatives / positives, a number is used as is."""
    if setting == "balanced":
        return (rows - positives) / positives
    return float(setting)


def hash_draw(key_cols: Sequence[str], seed: int) -> Column:
    """A number in [0, 1) drawn from a hash of the row's `key_cols` and `seed`: the same row draws
    the same number whatever the partitions, unlike rand()."""
    return F.pmod(F.xxhash64(*[F.col(c) for c in key_cols], F.lit(seed)), F.lit(1 << 30)) / float(1 << 30)


def downsample_negatives(
    data: DataFrame, label_col: str, fraction: float, seed: int, weight_col: str = "weight",
    key_cols: tuple[str, ...] = ("siren", "period"),
) -> DataFrame:
    """`data` with each negative row kept with probability `fraction` and its weight divided by it.

    A speed lever for very large training sets: the expected total weight of the negatives, and so
    the loss the trees minimise, is unchanged. `fraction` 1 returns `data` as it is. Whether a row
    is kept is a hash of its `key_cols` and `seed`, not a random draw per partition: the sample,
    and so the model, do not depend on how the panel's files fall into partitions (two lakes of
    the same data, e.g. a local and a cluster run, have differently named files).
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"the negative fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return data
    positive = F.col(label_col) == 1
    return data.filter(positive | (hash_draw(key_cols, seed) < fraction)).withColumn(
        weight_col, F.when(positive, F.col(weight_col)).otherwise(F.col(weight_col) / fraction)
    )
