PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test lint fuzz run clean

$(BIN)/polymaker: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(BIN)/polymaker

install: $(BIN)/polymaker

test: install
	$(BIN)/pytest -q

# The fuzz tests of `make test` with many more random examples (tests/fuzzing.py); about
# 20 minutes on an idle 2-core machine. FUZZ_EXAMPLES=N sets the examples per test.
FUZZ_EXAMPLES ?= 5000
FUZZ_TESTS := tests/config/test_config_fuzz.py tests/exchange/test_wire_fuzz.py \
	tests/screener/test_screener_fuzz.py

fuzz: install
	POLYMAKER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) POLYMAKER_FUZZ_RANDOM=1 \
		$(BIN)/pytest -q --timeout=0 --hypothesis-show-statistics $(FUZZ_TESTS)

# ruff, then mypy --strict over src/ (configuration: [tool.mypy] in pyproject.toml)
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

run: install
	$(BIN)/python poly_maker_autorun.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
