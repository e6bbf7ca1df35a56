# Patronage: `make run` serves the API on the embedded SQLite default, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes per database run (pytest-xdist); 1 runs the suite in one process.
TEST_WORKERS ?= 2

.PHONY: install run test test-sqlite test-postgres lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	@$(BIN)/patronage migrate > /dev/null
	@$(BIN)/patronage demo --host $(HOST) --port $(PORT)
	$(BIN)/patronage serve --host $(HOST) --port $(PORT) --no-migrate

# The whole suite on SQLite, then on PostgreSQL when PATRONAGE_TEST_POSTGRES_URL is set.
test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --db sqlite
	@if [ -n "$$PATRONAGE_TEST_POSTGRES_URL" ]; then \
		echo "--- PostgreSQL ---"; $(BIN)/pytest -n $(TEST_WORKERS) --db postgresql; \
	else echo "(PATRONAGE_TEST_POSTGRES_URL is not set: PostgreSQL run skipped)"; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The harness: every endpoint against its pgbench ceiling and a Starlette + asyncpg floor, on a million
# customers (PostgreSQL) and a smaller SQLite set; writes bench/RESULTS.md. Shorter runs: BENCH_* knobs,
# see bench/README.md (e.g. `make bench BENCH_CUSTOMERS=20000 BENCH_SECONDS=5`).
bench: install
	sh bench/install.sh
	$(BIN)/python bench/harness.py

clean:
	rm -rf $(VENV) patronage.db patronage.db-wal patronage.db-shm .patronage-demo.json
