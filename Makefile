# xdecimate: the README's two commands are `make report` and `make test`.
# Each bootstraps what is missing (apt packages, .venv, pip install -e '.[dev]') and then runs.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.bootstrap-stamp
JOBS  ?= 2

.PHONY: all test report soak bench lint bootstrap clean
all: test

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh
	touch $@

bootstrap: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n $(JOBS)

report: $(STAMP)
	$(VENV)/bin/xdecimate report --out build/report

soak: $(STAMP)
	$(PY) -m pytest -q -m soak tests

bench: $(STAMP)
	$(VENV)/bin/xdecimate bench --iss

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check . || true

clean:
	rm -rf build sim_build .pytest_cache
