# Two commands do everything on a fresh machine with Python 3.11+:
#   make run   set up, migrate a SQLite file, load demo data, serve on http://127.0.0.1:8000 (PORT=... to change)
#   make test  set up and run the whole suite (lint, types, tests on SQLite and PostgreSQL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME := $(VENV)/.runtime
PORT ?= 8000
# Test processes: one more than the cores, as many tests wait on servers and subprocesses.
TEST_JOBS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')

.PHONY: run test lint typecheck layers pytest install browser bench bench-scale mutation clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Mercato needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Serving needs only the runtime dependencies; the test, lint and type tools come with `make test`.
$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(RUNTIME) $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's chromium through Playwright (no browser download). Without it they are
# skipped locally; this installs it (as root, or with sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

run: $(RUNTIME)
	$(BIN)/mercato serve --demo --port $(PORT)

test: lint typecheck layers pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest --numprocesses $(TEST_JOBS)

bench: $(STAMP)
	$(BIN)/python benchmarks/verify.py
	$(BIN)/python benchmarks/validate_api.py
	$(BIN)/python benchmarks/pages.py

# The list pages and the billing run at N licenses on PostgreSQL (MERCATO_TEST_POSTGRES_URL), one N after the
# other, each on a database generated for it and dropped after. 1M takes long: `make bench-scale SCALE=10000`
# for a quick look; BILLING_TIMEOUT (seconds) stops a billing run that takes longer; BILLING_JOBS=2 bills in two
# processes (billing run --jobs). See docs/performance.md.
SCALE ?= 10000 100000 1000000
BILLING_TIMEOUT ?= 3600
BILLING_JOBS ?= 1
bench-scale: $(STAMP)
	@for n in $(SCALE); do \
		echo "== $$n licenses"; \
		url=$$($(BIN)/python benchmarks/scale_data.py --licenses $$n --keep | tee /dev/stderr | tail -1) || exit 1; \
		$(BIN)/python benchmarks/lists_scale.py --url "$$url"; lists=$$?; \
		$(BIN)/python benchmarks/billing_scale.py --url "$$url" --timeout $(BILLING_TIMEOUT) --jobs $(BILLING_JOBS); billing=$$?; \
		$(BIN)/python benchmarks/scale_data.py --drop "$$url"; \
		[ $$lists = 0 ] && [ $$billing = 0 ] || exit 1; \
	done

# Mutation testing of the pure domain core (pricing, licensing); slow, so not part of `make test`. It resumes
# where it stopped; `$(BIN)/mutmut results` lists the survivors. See docs/testing.md.
mutation: $(STAMP)
	$(BIN)/mutmut run --max-children $(or $(JOBS),2)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
