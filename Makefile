# Two entry points: `make demo` (run the product with demo data) and `make test` (the whole suite).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/smarketing
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test install install-test browser lint test-sqlite test-postgres serve

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,spark,embeddings]"

# Browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

demo: install
	$(BIN)/smarketing demo

lint:
	$(BIN)/ruff check src benchmarks tests
	$(BIN)/mypy src

test-sqlite:
	SMARKETING_DATA_DIR=$(CURDIR)/data/test-sqlite $(BIN)/pytest -q -p no:cacheprovider

test-postgres:
	DATABASE_URL=$(PG_URL) SMARKETING_DATA_DIR=$(CURDIR)/data/test-postgres $(BIN)/pytest -q -p no:cacheprovider -m "not browser"

test: install-test browser lint test-sqlite test-postgres
