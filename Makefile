# The README's two commands: `make run` and `make test`. Everything installs from this repo's files.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install install-dev browser lint eval bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

browser:
	bash scripts/install-browser.sh

## Install and run the product on its embedded default (builds the index on first start).
run: install
	$(BIN)/ivig-chat serve

## Install everything and run the whole test suite (unit, integration, browser).
test: install-dev browser
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check src tests evals scripts
	$(BIN)/mypy

eval: install-dev
	$(BIN)/ivig-chat eval

bench: install-dev
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf .ivig-chat test-artifacts; find evals/reports -mindepth 1 -maxdepth 1 ! -name baseline.json ! -name .gitkeep -exec rm -rf {} +
