# The single entry point. `make serve` and `make test` are the README's two commands.
# Both install from the hash-pinned lock files in requirements/ (`make lock` rewrites them).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK_TOOLS := $(VENV)/tools
PIP_TOOLS_VERSION := 7.6.2
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
# The packages the coverage gate holds to COVERAGE_MIN percent of branches and lines.
COVERAGE_GATED := app/uploads/*,app/storage/*
COVERAGE_MIN := 95
# pytest-xdist workers: the suite waits on servers, ffmpeg and sockets about half the time,
# so 4 on 2 cores (test-fast: 213 s alone, 153 s with 4). TEST_WORKERS=0 runs in-process.
TEST_WORKERS ?= 4

.PHONY: setup live-deps docs serve worker test test-fast check lint openapi bench bench-library bench-analytics lock coverage-report coverage-gate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The stamps depend on the locks, so a changed lock reinstalls on the next make.
$(VENV)/.runtime: requirements/runtime.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements/runtime.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements/dev.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(VENV)/.runtime $@

# The quick start's first step: the venv and a migrated database, so `mediastudio users
# create` works before `make serve` is up.
setup: $(VENV)/.runtime live-deps
	$(BIN)/mediastudio migrate

serve: $(VENV)/.runtime live-deps
	$(BIN)/mediastudio serve

# nginx with the RTMP module for live ingest, installed when missing and it may (root).
live-deps:
	@sh scripts/live-deps.sh

worker: $(VENV)/.runtime
	$(BIN)/mediastudio worker

# The whole suite, both databases, with branch coverage; then the gate: `make test` fails
# if app/uploads/ + app/storage/ are covered below COVERAGE_MIN percent (95.5% when the
# gate joined `test`; 94.6% before the edge tests of tests/uploads/*_edges.py).
test: $(VENV)/.dev live-deps
	$(MAKE) check
	$(BIN)/pytest -n $(TEST_WORKERS) --cov=app --cov-branch --cov-report=term-missing:skip-covered
	$(MAKE) coverage-gate

# The edit loop: SQLite only, no real servers or large files (no PostgreSQL needed).
test-fast: $(VENV)/.dev
	$(BIN)/pytest -q -n $(TEST_WORKERS) -m "not slow" -k "not postgresql" $(PYTEST_ARGS)

# Both read the data of the last `make test`; the gate fails below COVERAGE_MIN percent.
coverage-report: $(VENV)/.dev
	$(BIN)/coverage report --include='$(COVERAGE_GATED)' --precision=1

coverage-gate: $(VENV)/.dev
	$(BIN)/coverage report --include='$(COVERAGE_GATED)' --precision=1 --fail-under=$(COVERAGE_MIN)

check: $(VENV)/.dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy app tests

lint: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# README.md's settings table and .env.example, from app/config.py (tests/test_settings_doc.py).
docs: $(VENV)/.runtime
	$(BIN)/python -m app.settings_doc --write README.md .env.example

openapi: $(VENV)/.runtime
	$(BIN)/mediastudio openapi

bench: $(VENV)/.dev
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-library: $(VENV)/.dev
	$(BIN)/python -m bench.run library $(BENCH_ARGS)

bench-analytics: $(VENV)/.dev
	$(BIN)/python -m bench.run analytics $(BENCH_ARGS)

$(LOCK_TOOLS)/bin/pip-compile:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install -q pip-tools==$(PIP_TOOLS_VERSION)

# Keeps every pin that still satisfies pyproject.toml; LOCK_ARGS=--upgrade moves them all
# to the newest allowed. runtime.lock starts from dev.lock, so the versions they share
# are the same ones.
lock: $(LOCK_TOOLS)/bin/pip-compile
	$(PIP_COMPILE) $(LOCK_ARGS) --extra dev -o requirements/dev.lock pyproject.toml
	cp requirements/dev.lock requirements/runtime.lock
	$(PIP_COMPILE) -o requirements/runtime.lock pyproject.toml
