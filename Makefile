# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test bench reliability preview check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/consultation-bot run

test: $(DEV_STAMP)
	$(BIN)/ruff check bot conversations storage tests
	$(BIN)/mypy bot conversations storage
	$(BIN)/python -m pytest -q

reliability: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -s -m faults
	$(BIN)/python -m tests.faults.readme

preview: $(STAMP)
	$(BIN)/consultation-bot preview

check: $(STAMP)
	$(BIN)/consultation-bot check

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
