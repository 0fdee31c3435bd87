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

## Debian packages the tests need (chromium for page tests, poppler for PDF text checks, faketime and a C
## compiler for the dated run, wrk for load probes).
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null \
	    || ! command -v faketime >/dev/null || ! command -v wrk >/dev/null || ! command -v cc >/dev/null; then \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium poppler-utils fonts-noto-cjk faketime wrk gcc libc6-dev >/dev/null; \
	fi

## Start the local services the contract and integration tests use, if they are down.
services:
	@bash scripts/ensure-services.sh

## `make demo` is one shop; `make demo SHOPS=3` adds two simulated sellers and the cross-shop /platform page.
SHOPS ?= 1
demo: install
	$(BIN)/deliveryhub demo --shops $(SHOPS)

lint: install
	$(BIN)/ruff check src tests

typecheck: install
	$(BIN)/mypy

PYTEST := $(BIN)/python -m pytest -q -rfE -p no:cacheprovider --timeout=900 -o junit_family=xunit2

## Lint, types, import layers (lint-imports: the contracts in pyproject.toml) and tests all run even if one
## fails (one CI run shows every problem); fails if any did.
test: install system-deps services
	@rc=0; $(BIN)/ruff check src tests || rc=1; $(BIN)/mypy || rc=1; $(BIN)/lint-imports --no-cache || rc=1; \
	  $(PYTEST) -m "not scale" tests || rc=1; exit $$rc

test-fast: install
	$(BIN)/python -m pytest -q -x tests/unit

## Scale-out fault tests (PostgreSQL + 3-node NATS cluster + several workers); .ci/run runs them too.
test-scale: install services
	$(PYTEST) -m scale tests

## The non-scale suite again with every process's wall clock moved (libfaketime) to an unusual instant: by
## default shortly before midnight KST on New Year's Eve, so the run crosses a month, a year and ISO week
## 2026-W53 into a Korean public holiday (2027-01-01) in KST while UTC is still 2026-12-31. The wall clock
## is shifted by a fixed offset (so it keeps running and every subprocess -- uvicorn, workers, chromium --
## agrees); the monotonic clock stays real, so timeouts keep their meaning. scripts/faketime-sleepfix.c
## works around libfaketime 0.9.10 getting monotonic deadlines wrong in that mode: monotonic sleeps failed,
## and timed waits on monotonic condvars returned at once -- CPython's GIL is one, so a process with busy
## threads crawled (a worker's monitors sweep took 110-116 s instead of ~10, docs/PERFORMANCE.md).
## PostgreSQL and NATS run outside it, on the real date. Browser tests are left out: chromium under
## libfaketime 0.9.10 ran its timers about 100x slow (a 100 ms setTimeout took 10 s, launch 42 s; measured
## before the condvar fix, maybe the same bug) and FAKETIME_SKIP_CMDS stops it starting; the pages' server
## side is covered by the HTTP tests, the pages themselves by `make test`. Tests marked `realclock` would be
## left out too (none is).
DATED_AT ?= 2026-12-31T23:52:00+09:00
FAKETIME_LIB ?= $(firstword $(wildcard /usr/lib/*/faketime/libfaketimeMT.so.1))
SLEEPFIX := var/ci/faketime-sleepfix.so
$(SLEEPFIX): scripts/faketime-sleepfix.c
	@mkdir -p $(@D)
	cc -shared -fPIC -O2 -o $@ $< -ldl
test-dated: install system-deps services $(SLEEPFIX)
	@test -n "$(FAKETIME_LIB)" || { echo "libfaketime not found (make system-deps)"; exit 1; }
	@off=$$(( $$(date -d '$(DATED_AT)' +%s) - $$(date +%s) )); \
	  echo "test-dated: wall clock moved to $(DATED_AT) (offset $${off} s)"; \
	  LD_PRELOAD="$(CURDIR)/$(SLEEPFIX):$(FAKETIME_LIB)" FAKETIME="$$( [ $$off -ge 0 ] && echo +)$${off}" \
	  FAKETIME_DONT_FAKE_MONOTONIC=1 $(PYTEST) -m "not scale and not browser and not realclock" tests

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
