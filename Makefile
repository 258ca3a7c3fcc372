# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the app alone (what `make demo` needs), then the test and lint tools on top.
APP := $(VENV)/.installed-app
DEV := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck format bench screenshots clean-venv

$(APP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# Before the rename the distribution was called agent-tui; its finder mapped core and tui.
	$(BIN)/python -m pip uninstall -q -y agent-tui 2>/dev/null || true
	$(BIN)/python -m pip install -q -e .
	touch $(APP)

$(DEV): $(APP)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(DEV)

demo: $(APP)
	$(BIN)/agent-tui demo

# lint-imports reads a regular build (the editable install maps folders it cannot walk).
lint: $(DEV)
	$(BIN)/ruff check core tui tests bench
	$(BIN)/ruff format --check core tui tests bench
	@# A build/ folder left by an earlier build would ship modules that are gone since.
	rm -rf $(VENV)/lint-site build
	$(BIN)/python -m pip install -q --no-deps --target $(VENV)/lint-site .
	PYTHONPATH=$(VENV)/lint-site $(BIN)/lint-imports

# mypy over the same regular build (the editable mapping hides the package from it).
typecheck: lint
	MYPYPATH=$(VENV)/lint-site $(BIN)/mypy -p agent_tui

format: $(DEV)
	$(BIN)/ruff format core tui tests bench
	$(BIN)/ruff check --fix core tui tests bench

# pytest exits 5 when it collects no tests; that is not a failure of the suite.
test: typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# SVG + PNG of the main screens from a fresh demo workspace; installs the PNG renderer if missing.
screenshots: $(APP)
	command -v rsvg-convert >/dev/null || (apt-get update -qq && apt-get install -y -qq librsvg2-bin fonts-firacode)
	$(BIN)/python screenshots/make_screenshots.py

# Every bench/*.py through bench/run_all.py -> bench/results/*.json + SUMMARY.md (~10 min).
# swarms (the comparison in bench/swarms_compare.py) lives in its own venv, never in .venv.
bench: $(DEV)  # bench/remote.py needs obstore and moto (the dev extra)
	test -x bench/.swarms-venv/bin/python || $(PYTHON) -m venv bench/.swarms-venv
	bench/.swarms-venv/bin/python -m pip install -q --disable-pip-version-check \
		-r bench/requirements-swarms.txt
	$(BIN)/python bench/run_all.py

clean-venv:
	rm -rf $(VENV)
