# The two commands: `make run` and `make test`.  Everything they need is installed here.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUN := $(CURDIR)/tools/node_modules/@oven/bun-linux-x64/bin/bun
PORT ?= 3000
CHROMIUM ?= /usr/bin/chromium

# Reflex: bun from the npm registry (not a download script), no update checks, the machine's npm registry.
export REFLEX_BUN_PATH := $(BUN)
export REFLEX_CHECK_LATEST_VERSION := 0
export REFLEX_TELEMETRY_ENABLED := false
export NPM_CONFIG_REGISTRY ?= $(shell npm config get registry 2>/dev/null)
export BUN_INSTALL_CACHE_DIR := $(CURDIR)/.web-cache/bun

.PHONY: run test setup lint typecheck pytest browser-deps check-config clean

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

$(BUN): tools/package.json
	npm install --prefix tools --no-audit --no-fund --loglevel=error
	@test -x $(BUN)
	@touch $@

setup: $(VENV)/.installed $(BUN)

run: setup
	@$(BIN)/portal-admin check-config --quiet
	$(BIN)/portal-admin migrate
	$(BIN)/portal-admin seed-demo --if-demo
	@PORTAL_PORT=$(PORT) $(BIN)/portal-admin banner --port $(PORT)
	PORTAL_PORT=$(PORT) $(BIN)/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT) --loglevel warning

browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  if [ "$$(id -u)" = "0" ]; then (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null; \
	  elif command -v sudo >/dev/null; then (sudo apt-get update -qq && sudo apt-get install -y -qq chromium) >/dev/null; fi; \
	fi
	@test -x $(CHROMIUM) || { echo "Chromium is missing and could not be installed. Install it with: sudo apt-get install chromium (or set CHROMIUM=/path/to/chromium)" >&2; exit 1; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy portal panels sharing

# `make test TODAY=2027-03-28` (or TODAY=2027-03-28T23:30, local time) runs the suite, and every
# portal it starts, as if today were that day (tests/clock/sitecustomize.py).
pytest: setup browser-deps
	$(if $(TODAY),PORTAL_TEST_TODAY=$(TODAY) )$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

check-config: setup
	$(BIN)/portal-admin check-config

clean:
	rm -rf .web .states .web-cache
