# The README's two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install install-test lint lock test-newest test-sqlite test-postgres serve worker clean
LOCK_DIR := requirements

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Apache ECharts is served by the application itself; it comes from the npm registry (see README, Design).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Installs come from the lock (exact versions, checked hashes): a fresh machine gets exactly what was tested.
# The project itself goes in without its dependencies, which the lock has already brought.
$(VENV)/.installed: pyproject.toml $(LOCK_DIR)/base.lock node_modules/.package-lock.json | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(LOCK_DIR)/base.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(LOCK_DIR)/test.lock node_modules/.package-lock.json | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(LOCK_DIR)/test.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@ $(VENV)/.installed

# Refreshes the locks from pyproject.toml's ranges (newest allowed releases). The test lock is constrained
# by the base lock so a deployment and the suite run the same versions of everything they share.
lock: | $(BIN)/python
	$(BIN)/pip install -q pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile -q --upgrade --generate-hashes --strip-extras \
	  --allow-unsafe --no-emit-index-url --no-emit-find-links -o $(LOCK_DIR)/base.lock pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile -q --upgrade --generate-hashes --strip-extras \
	  --allow-unsafe --no-emit-index-url --no-emit-find-links --extra test -c $(LOCK_DIR)/base.lock \
	  -o $(LOCK_DIR)/test.lock pyproject.toml

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Creates .venv, installs, migrates var/safetynet.sqlite3, loads the demo city when empty, collects the static
# files into var/static, prints the logins, then serves http://127.0.0.1:8000 with the background-task worker
# beside it. It runs as production runs: debug off (the project's own Chinese 404/403/500 pages), static files
# from WhiteNoise; only TLS is off, for plain http on this machine. `make demo DEBUG=1` (development only)
# turns Django's debug pages on.
DEBUG ?= 0
DEMO_ENV := SAFETYNET_DEBUG=$(if $(filter 1,$(DEBUG)),1,0) SAFETYNET_SSL_REDIRECT=0 SAFETYNET_SECURE_COOKIES=0 \
  SAFETYNET_HSTS_SECONDS=0
demo: install
	$(DEMO_ENV) $(BIN)/safetynet migrate -v0
	$(DEMO_ENV) $(BIN)/safetynet demo-data --scale small --if-empty
	$(DEMO_ENV) $(BIN)/safetynet collectstatic --noinput -v0
	$(DEMO_ENV) $(BIN)/safetynet demo-logins
	@set -m; $(DEMO_ENV) $(BIN)/safetynet db_worker -v0 --no-reload & worker=$$!; \
	  trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  $(DEMO_ENV) $(BIN)/safetynet runserver --noreload $(HOST):$(PORT)

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports pyproject.toml
	SAFETYNET_DEBUG=1 $(BIN)/safetynet makemigrations --check --dry-run -v0

# The whole suite on SQLite, then again on PostgreSQL when one answers (DATABASE_URL, or the local server).
test: lint
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$DATABASE_URL" ] || $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  $(MAKE) --no-print-directory test-postgres; \
	else echo "PostgreSQL not reachable: suite ran on SQLite only."; fi

test-sqlite: install-test
	@echo "== tests on SQLite =="
	DATABASE_URL= $(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && { echo "no tests collected"; exit 1; }; exit $$rc

# A fresh database per run: pytest-django creates test_<name> and drops it afterwards.
test-postgres: install-test
	@echo "== tests on PostgreSQL =="
	base=$${DATABASE_URL:-$(PG_URL)}; base=$${base%/*}; \
	DATABASE_URL=$$base/safetynet_ci_$$$$ $(BIN)/python -m pytest --create-db $(PYTEST_ARGS); rc=$$?; \
	[ $$rc -eq 5 ] && { echo "no tests collected"; exit 1; }; exit $$rc

# The newest releases pyproject.toml's ranges allow (no lock), in a venv of their own, through the paths that
# broke before (the personal-data fast path, the roster import) and the dependency checks: tells early that
# the next `make lock` would break something. .ci/run runs it after the locked suite.
NEWEST := .venv-newest
test-newest: node_modules/.package-lock.json
	[ -x $(NEWEST)/bin/python ] || $(PYTHON) -m venv $(NEWEST)
	$(NEWEST)/bin/pip install -q --upgrade pip
	$(NEWEST)/bin/pip install -q --upgrade --upgrade-strategy eager -e '.[test]'
	DATABASE_URL= $(NEWEST)/bin/python -m pytest -q tests/test_dependencies.py::test_no_private_names_of_libraries_are_read \
	  src/safetynet/members/tests/test_bulk.py src/safetynet/members/tests/test_importers.py \
	  src/safetynet/members/tests/test_rotation.py src/safetynet/core/tests/test_settings.py

clean:
	rm -rf $(VENV) $(NEWEST) var .pytest_cache
