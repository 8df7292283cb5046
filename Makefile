# servicecircle — two commands on a fresh machine:
#   make demo   creates .venv, installs, runs the bundled central-Chengdu demo
#   make test   creates .venv, installs, runs the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint install browser docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/servicecircle demo --out out/demo

browser:
	tools/ensure-browser.sh

# the shape held in place: lint and format (ruff), types (mypy: strict on engine, network, profiles, checks),
# then the tests, the docstring examples and the import-layer test (pytest)
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/mypy

test: $(STAMP) browser lint
	$(BIN)/python -m pytest

# benchmarks (not tests): servicecircle and its peers, figures in out/bench/ and docs/performance.md
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf out build site .pytest_cache
