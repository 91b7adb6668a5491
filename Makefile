# Every target installs what it needs first, so a fresh machine needs only Python 3.11+.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# One worker a core; a file's tests stay on one worker (they share its servers and fixtures).
PYTEST := $(BIN)/pytest -n auto --dist loadfile

.PHONY: demo serve test test-sqlite test-postgres test-services lint fmt check bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)  ## load generated demo data into ./amends.db and serve on :8000
	$(BIN)/amends demo

serve: $(STAMP)
	$(BIN)/amends serve

test-services:  ## mail server and friends the tests talk to (idempotent)
	bash scripts/test-services.sh

test-sqlite: $(STAMP) test-services
	$(PYTEST)

test-postgres: $(STAMP) test-services
	AMENDS_TEST_DATABASE_URL=$(PG_TEST_URL) $(PYTEST)

test: test-sqlite test-postgres  ## the whole suite, on SQLite and on PostgreSQL

lint: $(STAMP)
	$(BIN)/ruff check src tests bench evals scripts
	$(BIN)/ruff format --check src tests bench evals scripts
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench evals scripts
	$(BIN)/ruff check --fix src tests bench evals scripts

check: lint test

bench: $(STAMP)
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/analyze_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
