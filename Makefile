# The two commands of README.md: `make dev` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: install system-deps dev test test-fast lint lint-types bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Debian packages for real LXC containers (best effort: skipped without root or apt-get).
system-deps:
	./scripts/install-system-deps.sh

## Install everything and start the whole system on its embedded default.
dev: $(STAMP)
	$(BIN)/guificloud dev $(ARGS)

## Install everything and run the whole test suite against real NATS and PostgreSQL.
test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "unit" $(ARGS)

LINTED := libs services cli tests bench tools
TYPED := libs/guificloud cli/guificloud_cli $(wildcard services/*/guificloud_*)

## What CI checks before the tests (and .pre-commit-config.yaml runs on each commit).
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(MAKE) -s lint-types

lint-types: $(STAMP)
	$(BIN)/mypy $(TYPED)

## Every benchmark in bench/, one JSON line each (ARGS="--only slices" for some).
bench: $(STAMP)
	$(BIN)/python bench/all.py $(ARGS)

clean:
	rm -rf $(VENV) .guificloud .pytest_cache
