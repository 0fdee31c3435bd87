# deliveryhub — `make demo` runs the product, `make test` runs every check (what .ci/run calls).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo test lint typecheck unit services system-deps test-fast test-scale test-dated clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Debian packages the tests need (chromium for page tests, poppler for PDF text checks, faketime for the
## dated run, wrk for load probes).
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null \
	    || ! command -v faketime >/dev/null || ! command -v wrk >/dev/null; then \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium poppler-utils fonts-noto-cjk faketime wrk >/dev/null; \
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

PYTEST := $(BIN)/python -m pytest -q -rfE -p no:cacheprovider --timeout=900 -o junit_family=xunit2

test: install system-deps services lint typecheck
	$(PYTEST) -m "not scale" tests

test-fast: install
	$(BIN)/python -m pytest -q -x tests/unit

## Scale-out fault tests (PostgreSQL + 3-node NATS cluster + several workers); .ci/run runs them too.
test-scale: install services
	$(PYTEST) -m scale tests

## The non-scale suite again with every process's wall clock moved (libfaketime) to an unusual instant: by
## default shortly before midnight KST on New Year's Eve, so the run crosses a month, a year and ISO week
## 2026-W53 into a Korean public holiday (2027-01-01) in KST while UTC is still 2026-12-31. The clock keeps
## running (an offset, shared by every subprocess: uvicorn, workers, chromium); the monotonic clock stays
## real so timeouts keep their meaning. PostgreSQL and NATS run outside it, on the real date.
DATED_AT ?= 2026-12-31T23:52:00+09:00
test-dated: install system-deps services
	@off=$$(( $$(date -d '$(DATED_AT)' +%s) - $$(date +%s) )); \
	  echo "test-dated: clock moved to $(DATED_AT) (offset $${off} s)"; \
	  FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -m --exclude-monotonic -f "$$( [ $$off -ge 0 ] && echo +)$${off}" \
	    $(PYTEST) -m "not scale" tests

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
