"""Early-warning pipeline for French firms in difficulty: Spark, Delta Lake, MLflow."""
from setuptools import find_packages, setup

setup(
    name="early-warning",
    version="0.1.0",
    description="Finds French firms heading for insolvency months ahead, from administrative extracts",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=[name + suffix for name in ("common", "ingestion", "features", "training",
                                                                "scoring", "synthetic", "jobs")
                                    for suffix in ("", ".*")]),
    include_package_data=True,
    install_requires=[
        # Delta 4.3.x supports Spark 4.1.x (delta-spark 4.3.1 requires pyspark>=4.0.1,<=4.1.1);
        # conf/base.yaml's spark.delta_jars follow the same pair.
        "pyspark==4.1.1",
        "delta-spark==4.3.1",
        "mlflow>=3.5,<4",
        # pyspark 4.1 warns on pandas 3: keep pandas 2.x.
        "pandas>=2.2,<3",
        "pyarrow>=17",
        "numpy>=1.26,<3",
        "pyyaml>=6",
        "openpyxl>=3.1",
        "matplotlib>=3.8",
        "deltalake>=1.0",
        "psutil>=5.9",
    ],
    extras_require={
        # nbclient runs the notebooks top to bottom in an ipykernel (tests/notebooks).
        "test": ["pytest>=8", "chispa==0.12.0", "nbclient>=0.10", "nbformat>=5.10", "ipykernel>=6.29"],
        "bench": ["lightgbm>=4.5", "duckdb>=1.1", "zstandard>=0.23", "py-spy>=0.4"],  # zstandard: Spark's event logs; py-spy: Python profiles
    },
    entry_points={
        "console_scripts": [
            f"ew-{stage.replace('_', '-')}=jobs.{stage}:cli"
            for stage in ("generate_extracts", "ingest", "build_panel", "train", "score",
                          "export_region", "pipeline", "backtest")
        ]
    },
)
