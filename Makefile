# The single entry point. `make serve` and `make test` are the README's two commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test check lint openapi bench worker

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.runtime $@

serve: $(VENV)/.runtime
	$(BIN)/mediastudio serve

worker: $(VENV)/.runtime
	$(BIN)/mediastudio worker

test: $(VENV)/.dev
	$(MAKE) check
	$(BIN)/pytest

check: $(VENV)/.dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy app

lint: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: $(VENV)/.runtime
	$(BIN)/mediastudio openapi

bench: $(VENV)/.dev
	$(BIN)/python -m bench.run $(BENCH_ARGS)
