"""Datasets, splits, the Spark ML pipeline, evaluation, explanations, tracking, scoring."""
