# Datenschatz — every target sets up what it needs; nothing relies on a hand-made install.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest ogctests ogctests-venv bench bench-ingest bench-access bench-sensors clean

install: $(STAMP) web

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

.PHONY: web browser

# The web UI's front-end libraries (Leaflet, uPlot) from npm, pinned by web/package-lock.json.
WEB_STAMP := web/node_modules/.installed

web: $(WEB_STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the web UI's libraries (apt-get install npm)"; exit 1; }
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

# Debian's Chromium for the browser tests (never 'playwright install': it downloads).
browser:
	@if [ -x /usr/bin/chromium ]; then \
		echo "Chromium: /usr/bin/chromium"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	else \
		echo "Chromium is missing at /usr/bin/chromium and we are not root (or not on Debian):"; \
		echo "the browser tests will skip; install it with: sudo apt-get install chromium chromium-driver"; \
	fi

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

# Under CI=true the PostgreSQL and Mosquitto tests must run: they default to the CI machine's
# servers (as .ci/run sets them); elsewhere they run only where these variables are set.
ifeq ($(CI),true)
export DATENSCHATZ_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export DATENSCHATZ_TEST_MQTT_URL ?= mqtt://127.0.0.1:1883
endif

pytest: install ogctests-venv web browser
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
	rm -rf $(VENV) $(OGCTESTS_VENV) web/node_modules test-artifacts datenschatz-data .pytest_cache .mypy_cache .ruff_cache

ogctests: install ogctests-venv
	DATENSCHATZ_OGCTESTS_PYTHON=$(abspath $(OGCTESTS_VENV))/bin/python $(BIN)/pytest tests/api/test_ogc_suite.py
