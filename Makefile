# Two commands do all set-up on a fresh machine with Python 3.11+:
#   make run   - conformance run against the embedded reference provider
#   make test  - lint, type check, unit/integration tests and the full conformance run
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck serve clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/nv-conformance run --report-dir reports/run

lint: $(VENV)/.installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

test: $(VENV)/.installed lint typecheck
	$(BIN)/python -m pytest -q
	$(BIN)/nv-conformance run --report-dir reports/ci

serve: $(VENV)/.installed
	$(BIN)/nv-conformance serve

clean:
	rm -rf $(VENV) reports build dist *.egg-info
