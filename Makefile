# Two commands for a fresh machine with Python 3.11 and Java 17: `make demo` and `make test`.
# Everything else (the .venv, Delta's jars) is set up on the way, once.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JARS_STAMP := $(VENV)/.delta-jars
CONF ?= conf/local.yaml

.PHONY: setup jars demo test bench clean mlflow-ui package

setup: $(STAMP) $(JARS_STAMP)
	@$(PY) -c "from jobs.session import check_java; check_java()"

$(STAMP): setup.py constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[test,bench]"
	@touch $@

jars: $(JARS_STAMP)
$(JARS_STAMP): $(STAMP) conf/base.yaml tools/fetch_jars.py
	$(PY) tools/fetch_jars.py
	@touch $@

# Generates the default synthetic delivery (unless already there) and runs every stage on it.
demo: setup
	$(PY) -m jobs.generate_extracts --conf $(CONF) --if-missing
	$(PY) -m jobs.pipeline --conf $(CONF)
	@echo "Done. Synthetic extracts: work/raw (hidden truth: work/truth). Delta tables: work/lake"
	@echo "(bronze/, quarantine, ingest_log, panel, scores). Regional lists: work/exports/<region>/."
	@echo "Models and runs: make mlflow-ui, then http://127.0.0.1:5000"

test: setup
	$(PY) -m pytest tests

# Every stage at one scale of conf/bench.yaml (demo, region, mid, national), then SUMMARY.md.
SCALE ?= demo
bench: setup
	$(PY) -m bench.bench_scale --scale $(SCALE)
	$(PY) -m bench.summary

# What a cluster needs, in dist/: the wheel (--py-files), conf/, Delta's jars (--jars) and their
# coordinates (packages.txt, for --packages); prints the pipeline's spark-submit line.
package: setup
	$(PY) tools/package.py

# The MLflow UI on the store named in $(CONF), bound to its bind_host (127.0.0.1 by default).
mlflow-ui: setup
	$(VENV)/bin/mlflow ui --port 5000 \
	  --host "$$($(PY) -c "from jobs.config import load_config; print(load_config('$(CONF)').get('bind_host') or '127.0.0.1')")" \
	  --backend-store-uri \
	  "$$($(PY) -c "from jobs.config import load_config; from jobs.tracking import tracking_uri; print(tracking_uri(load_config('$(CONF)')))")"

clean:
	rm -rf work dist
