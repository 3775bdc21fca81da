# The README's two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install install-test lint test-sqlite test-postgres serve worker clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Apache ECharts is served by the application itself; it comes from the npm registry (see README, Design).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENV)/.installed: pyproject.toml node_modules/.package-lock.json | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml node_modules/.package-lock.json | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Creates .venv, installs, migrates var/safetynet.sqlite3, loads the demo city when empty, prints the
# logins, then serves http://127.0.0.1:8000 with the background-task worker beside it.
demo: install
	SAFETYNET_DEBUG=1 $(BIN)/safetynet migrate -v0
	SAFETYNET_DEBUG=1 $(BIN)/safetynet demo-data --scale small --if-empty
	SAFETYNET_DEBUG=1 $(BIN)/safetynet demo-logins
	@set -m; SAFETYNET_DEBUG=1 $(BIN)/safetynet db_worker -v0 --no-reload & worker=$$!; \
	  trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  SAFETYNET_DEBUG=1 $(BIN)/safetynet runserver --noreload $(HOST):$(PORT)

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --config pyproject.toml
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

clean:
	rm -rf $(VENV) var .pytest_cache
