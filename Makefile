# Every target bootstraps .venv on first use, so a fresh machine needs only `make demo` and `make test`.
# The [dask] extra is installed too, so the Dask executor tests run (they start a cluster on 127.0.0.1).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APP_STAMP := $(VENV)/.installed-app
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-slow test-app bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dask,calibrate]"
	$(BIN)/python -m compileall -q simulation  # as pip does for installed packages (editable ones are not)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/school-exit run scenarios/baseline.toml --out results/demo --replicates 4 --plot
	$(BIN)/school-exit check-targets results/demo

test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# The live app in a real browser: Debian's chromium (installed here if missing; CI runs as root on a
# clean machine) driven by Playwright from the [app] extra. Runs tests/app, the page tests included.
$(APP_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,dask,calibrate,app]"
	touch $(APP_STAMP)

test-app: $(APP_STAMP)
	test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	SCHOOL_EXIT_REQUIRE_BROWSER=1 $(BIN)/python -m pytest tests/app -m "app or not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

lint: $(STAMP)
	$(BIN)/ruff check simulation tests benchmarks app.py
	$(BIN)/ruff format --check simulation tests benchmarks app.py

clean:
	rm -rf $(VENV) results .pytest_cache
