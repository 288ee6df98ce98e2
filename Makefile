# Two commands: `make run` (install, demo data, serve) and `make test` (install, lint, tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
NODE_BIN := contracts/node_modules/.bin
HOST ?= 127.0.0.1
PORT ?= 5000
export TRACE_DATA_DIR ?= $(CURDIR)/data

.PHONY: install run test lint typecheck pytest bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip==25.3
	$(PIP) install --quiet -e '.[test]'
	touch $@

$(NODE_BIN)/anvil: contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed $(NODE_BIN)/anvil

run: install
	TRACE_ENV=development $(VENV)/bin/traceability init
	TRACE_ENV=development $(VENV)/bin/traceability demo
	@echo "Serving on http://$(HOST):$(PORT)/  (API: http://$(HOST):$(PORT)/api/v1/health)"
	TRACE_ENV=development TRACE_PUBLIC_URL=http://$(HOST):$(PORT) \
		$(VENV)/bin/traceability serve --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check traceability ledger tests bench wsgi.py
	$(VENV)/bin/ruff format --check traceability ledger tests bench wsgi.py
	$(VENV)/bin/lint-imports --no-cache

typecheck: install
	$(VENV)/bin/mypy traceability ledger

# Two workers (the machine has two cores); each test still has its own database,
# and each worker its own ledger nodes on ports the OS picks.
pytest: install
	$(PY) -m pytest -n 2

test: lint typecheck pytest

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) contracts/node_modules .pytest_cache .ruff_cache .mypy_cache
