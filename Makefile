# Two commands do all set-up on a fresh machine (Python >= 3.11):
#   make demo   — install, then run the whole pipeline on data/sample and evaluate it
#   make test   — install (plus headless Chromium and the Cypher parser), then run the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out/sample

.PHONY: demo test install notebook browser cypher-check bench clean

demo: $(VENV)/.installed
	$(BIN)/mhgraph run data/sample --out $(OUT)
	$(BIN)/mhgraph evaluate $(OUT) --truth data/sample/truth

test: $(VENV)/.installed cypher-check browser
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mhgraph needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Jupyter with the walkthrough notebook (the cluster picture shows inline).
notebook: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[notebook]"
	$(BIN)/jupyter lab notebooks/walkthrough.ipynb

# Neo4j's own Cypher parser, pinned in tools/cypher-check/package-lock.json.
cypher-check: tools/cypher-check/node_modules/.installed
tools/cypher-check/node_modules/.installed: tools/cypher-check/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tools/cypher-check && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the Cypher syntax tests will be skipped"; fi

# Headless Chromium for the browser tests (Debian package; needs root for apt-get).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium not found and cannot be installed here: the browser tests will be skipped"; fi

bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	@echo "Benchmarks run one by one: see benchmarks/README.md"

clean:
	rm -rf $(VENV) out .pytest_cache
