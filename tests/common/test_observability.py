"""Spark job labels per stage."""
from common.observability import stage


def test_stage_labels_the_jobs_inside_the_block_only(spark):
    context = spark.sparkContext
    with stage(spark, "build_panel: perimeter"):
        assert context.getLocalProperty("spark.job.description") == "build_panel: perimeter"
    assert context.getLocalProperty("spark.job.description") is None
