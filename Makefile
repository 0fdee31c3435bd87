# deliveryhub — `make demo` runs the product, `make test` runs every check (what .ci/run calls).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo test lint typecheck unit services system-deps test-fast test-scale clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Debian packages the tests need (chromium for page tests, poppler for PDF text checks).
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null; then \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils fonts-noto-cjk >/dev/null; \
	fi

## Start the local services the contract and integration tests use, if they are down.
services:
	@bash scripts/ensure-services.sh

demo: install
	$(BIN)/deliveryhub demo

lint: install
	$(BIN)/ruff check src tests

typecheck: install
	$(BIN)/mypy

PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider --timeout=900 -o junit_family=xunit2

test: install system-deps services lint typecheck
	$(PYTEST) -m "not scale" tests

test-fast: install
	$(BIN)/python -m pytest -q -x tests/unit

## Scale-out fault tests (PostgreSQL + 3-node NATS cluster + several workers); .ci/run runs them too.
test-scale: install services
	$(PYTEST) -m scale tests

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
