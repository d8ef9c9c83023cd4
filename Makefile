PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test lint run clean

$(BIN)/polymaker: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(BIN)/polymaker

install: $(BIN)/polymaker

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

run: install
	$(BIN)/python poly_maker_autorun.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
