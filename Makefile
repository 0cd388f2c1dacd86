# Cognova — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
# Two test processes (xdist): each gets its own database, Redis namespace and browser.
PYTEST_ARGS ?= -n 2

.PHONY: run test lint format install

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

## Start web + worker + clock (embedded PostgreSQL and Redis unless DATABASE_URL/REDIS_URL are set).
run: $(STAMP)
	$(PY) -m flask --app app up

## Run the whole test suite against real PostgreSQL, Redis and Chromium.
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
