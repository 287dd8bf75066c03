"""Entry points of the pipeline: one thin module per stage, plus the runtime they share."""
