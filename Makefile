# The two commands a new machine needs: `make demo` and `make test`. Everything else is a piece of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint test-python test-client test-editors test-e2e bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Scan the bundled examples. hiccup exits 1 when it finds something, which is the point of the demo.
demo: $(STAMP)
	$(BIN)/hiccup scan examples/ ; rc=$$?; test $$rc -le 1

lint: $(STAMP)
	$(BIN)/ruff check server tests bench

test-python: $(STAMP)
	$(BIN)/pytest -q -m "not editor"

test-client:
	cd client-vscode && npm ci --no-audit --no-fund && npm run build && npm test

test-editors: $(STAMP)
	bash tests/editors/install.sh
	$(BIN)/pytest -q -m editor

test-e2e: $(STAMP)
	HICCUP_PYTHON=$(abspath $(BIN)/python) bash tests/editors/vscode/run_e2e.sh

test: lint test-python test-client test-editors test-e2e

bench: $(STAMP)
	$(BIN)/python bench/scan.py

clean:
	rm -rf $(VENV) build *.egg-info server/*.egg-info
