# Two entry points: `make demo` (run the product with demo data) and `make test` (the whole suite).
# The interpreter comes from .ci/python.sh: python3 when it is 3.11, 3.12 or 3.13, else the newest of those found on
# the PATH or in pyenv; `make PY=python3.12 demo` picks one. The full suite runs on 3.11 when the machine has it
# (the embeddings extra's torch 2.13.0 CPU wheel is built for 3.11 only); every other supported Python found gets
# the short check of .ci/python-check.sh in its own .venv-X.Y.
PY ?=
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/smarketing
PYTHONS := 3.11 3.12 3.13
FULL_SUITE_PYTHON := 3.11
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test install install-test browser java lint test-sqlite test-postgres test-dbs test-pythons serve

# `make test` builds the virtualenv on 3.11 when it can, `make demo` on python3 when it is supported.
$(BIN)/python:
	@py="$(PY)"; [ -n "$$py" ] || py=$$(.ci/python.sh $(if $(filter test install-test,$(MAKECMDGOALS)),--prefer $(FULL_SUITE_PYTHON))) || exit 1; \
	echo "$(VENV): $$("$$py" -V 2>&1) ($$py)"; "$$py" -m venv $(VENV)
	$(BIN)/pip install -q -U pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	@if [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "$(FULL_SUITE_PYTHON)" ]; then \
	  set -x; $(BIN)/pip install -q torch==2.13.0 && $(BIN)/pip install -q -e ".[dev,spark,embeddings]"; \
	else \
	  echo "note: $(VENV) is not Python $(FULL_SUITE_PYTHON): the embeddings extra (torch 2.13.0, whose CPU wheel here is for 3.11) is skipped, so the embedding-model tests will fail"; \
	  set -x; $(BIN)/pip install -q -e ".[dev,spark]"; \
	fi

# Browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

# The Spark standalone cluster tests run Debian's Java (17 or newer) when the machine has none.
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; fi; }

demo: install
	$(BIN)/smarketing demo

lint:
	$(BIN)/ruff check src benchmarks tests
	$(BIN)/mypy src

test-sqlite:
	SMARKETING_DATA_DIR=$(CURDIR)/data/test-sqlite $(BIN)/pytest -q -p no:cacheprovider --durations=25

test-postgres:
	DATABASE_URL=$(PG_URL) SMARKETING_DATA_DIR=$(CURDIR)/data/test-postgres $(BIN)/pytest -q -p no:cacheprovider --durations=25 -m "not browser"

# Both databases' suites side by side (one per core), PostgreSQL's output printed after SQLite's.
test-dbs:
	.ci/suites.sh

# The short check on each supported Python other than the full suite's: one line each, or a note when absent.
test-pythons: $(BIN)/python
	@main=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	for v in $(PYTHONS); do [ "$$v" = "$$main" ] || .ci/python-check.sh $$v || exit 1; done

test: install-test browser java lint test-dbs test-pythons
