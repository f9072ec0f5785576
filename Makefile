# Datenschatz — every target sets up what it needs; nothing relies on a hand-made install.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest ogctests ogctests-venv bench bench-ingest bench-access bench-sensors clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/datenschatz demo --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

# The OGC API - Features Part 1 Core suite (ogctests) pins old httpx/pytest/pyarrow, so it
# lives in a venv of its own; tests/api/test_ogc_suite.py runs it against a local server.
OGCTESTS_VENV := .venv-ogctests
OGCTESTS_STAMP := $(OGCTESTS_VENV)/.installed

ogctests-venv: $(OGCTESTS_STAMP)

$(OGCTESTS_STAMP): requirements-ogctests.lock
	test -x $(OGCTESTS_VENV)/bin/python || $(PYTHON) -m venv $(OGCTESTS_VENV)
	$(OGCTESTS_VENV)/bin/python -m pip install --quiet -c requirements-ogctests.lock ogctests==0.1.15
	touch $(OGCTESTS_STAMP)

pytest: install ogctests-venv
	DATENSCHATZ_OGCTESTS_PYTHON=$(abspath $(OGCTESTS_VENV))/bin/python $(BIN)/pytest

test: lint typecheck pytest

bench: bench-ingest bench-access bench-sensors

bench-ingest: install
	$(BIN)/python bench/bench_ingest.py

# Add --large for the 10 M-row figures; wrk (Debian package) is used when installed, else a
# Python load client.
bench-access: install
	$(BIN)/python bench/bench_access.py

# Observations/s over HTTP CreateObservations and MQTT, and the last-24-h query with 10 M
# observations stored, on SQLite and (with DATENSCHATZ_TEST_DATABASE_URL) PostgreSQL. Needs
# mosquitto (Debian package) for the MQTT part.
bench-sensors: install
	$(BIN)/python bench/bench_sensors.py

clean:
	rm -rf $(VENV) $(OGCTESTS_VENV) datenschatz-data .pytest_cache .mypy_cache .ruff_cache

ogctests: install ogctests-venv
	DATENSCHATZ_OGCTESTS_PYTHON=$(abspath $(OGCTESTS_VENV))/bin/python $(BIN)/pytest tests/api/test_ogc_suite.py
