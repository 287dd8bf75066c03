"""Rule baselines the models must beat, scored on the same rows as the model."""
from __future__ import annotations

from typing import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def social_debt_rule(
    rows: DataFrame,
    debt_cols: Sequence[str],
    contributions_col: str,
    months: float,
    output_col: str = "score",
) -> DataFrame:
    """`rows` with `output_col` = 1.0 when the social debt exceeds `months` months of contributions.

    Per row (siren, period): debt = sum of `debt_cols` (nulls count as no debt) > `months` x
    `contributions_col` (the mean monthly contributions). A firm with debt and no known
    contributions is flagged; one with no debt never is.
    """
    debt = sum((F.coalesce(F.col(name), F.lit(0.0)) for name in debt_cols), F.lit(0.0))
    limit = F.lit(float(months)) * F.coalesce(F.col(contributions_col), F.lit(0.0))
    return rows.withColumn(output_col, F.when((debt > 0) & (debt > limit), 1.0).otherwise(0.0))
