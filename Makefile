# Two commands do all set-up on a fresh machine (Python >= 3.11):
#   make demo   — install, then run the whole pipeline on data/sample and evaluate it
#   make test   — install (plus headless Chromium, LibreOffice Calc and the Cypher parser), then run the tests
# Both install exactly the versions in requirements.lock (hashes checked). Other targets:
#   make test-latest — the tests against the newest releases pyproject.toml allows (own venv)
#   make lock        — regenerate requirements.lock and requirements-bench.lock from pyproject.toml
#   make fuzz        — the volume run of the property tests (benchmarks/fuzz_ingest.py)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out/sample
LOCK   := requirements.lock
UV_VERSION := 0.13.8

.PHONY: demo test test-latest install lock fuzz notebook browser spreadsheet cypher-check bench clean

demo: $(VENV)/.installed
	$(BIN)/mhgraph run data/sample --out $(OUT)
	$(BIN)/mhgraph evaluate $(OUT) --truth data/sample/truth

test: $(VENV)/.installed cypher-check browser spreadsheet
	$(BIN)/python -m pytest

install: $(VENV)/.installed

# The lock pins every package with its hashes; the project itself is installed on top, without
# dependencies and without build isolation, so nothing outside the lock is fetched.
define install_locked
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mhgraph needs Python >= 3.11")'
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --require-hashes --no-deps -r $(2)
	$(1)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(1)/bin/python -m pip check
endef

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(call install_locked,$(VENV),$(LOCK))
	touch $@

# The newest releases pyproject.toml allows, in a venv of their own: breakage shows here first.
test-latest: cypher-check browser spreadsheet
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[test]"
	.venv-latest/bin/python -m pip freeze --exclude-editable > .venv-latest/versions.txt
	.venv-latest/bin/python -m pytest

# One command regenerates both locks (after a change to the dependencies in pyproject.toml):
# every platform, Python 3.11 and newer, with hashes.
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet uv==$(UV_VERSION)
	.venv-lock/bin/uv pip compile pyproject.toml requirements-build.in --extra test --universal \
		--python-version 3.11 --generate-hashes --quiet --output-file $(LOCK)
	.venv-lock/bin/uv pip compile pyproject.toml requirements-build.in --extra test --extra bench --universal \
		--python-version 3.11 --generate-hashes --quiet --output-file requirements-bench.lock

fuzz: $(VENV)/.installed
	$(BIN)/python benchmarks/fuzz_ingest.py

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

# LibreOffice Calc for the test that opens the CSVs with Dutch settings (Debian package; needs root
# for apt-get, as the browser does; the test is skipped where it cannot be installed).
spreadsheet:
	@if command -v soffice >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		libreoffice-calc-nogui >/dev/null; \
	else echo "soffice not found and cannot be installed here: the LibreOffice test will be skipped"; fi

bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-bench.lock
	@echo "Benchmarks run one by one: see benchmarks/README.md"

clean:
	rm -rf $(VENV) .venv-latest .venv-lock out .pytest_cache
