# servicecircle — two commands on a fresh machine:
#   make demo   creates .venv, installs, runs the bundled central-Chengdu demo
#   make test   creates .venv, installs, runs the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test install browser docs bench clean

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

test: $(STAMP) browser
	$(BIN)/python -m pytest

# benchmarks (not tests): servicecircle and its peers, figures in out/bench/ and docs/performance.md
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf out build site .pytest_cache
