# One-command set-up: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test bench soak bench-app bench-baseline install install-test system-deps clean messages compile lock audit

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps re-run pip only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[demo]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[demo,test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed compile
install-test: $(VENV)/.installed-test compile

# Languages (fakeai_dash/i18n.py). `make messages` extracts every _()/N_()/ngettext() of the
# Python code and T() of assets/*.js into messages.pot and merges it into each language's .po
# (translate the new entries there). The .mo files are built from the .po, never committed:
# a binary beside its source goes stale and conflicts in every merge; `make compile` (run by
# install, run and test) rebuilds only those older than their .po. A deployment never runs make:
# fakeai_dash/i18n.py compiles a .po in memory where its .mo is missing or older than it.
TRANSLATIONS := fakeai_dash/translations
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
PYBABEL := $(VENV)/bin/pybabel

messages: $(VENV)/.installed
	$(PYBABEL) extract -F babel.cfg -k T -k for_scripts --no-location --sort-output --omit-header -o $(TRANSLATIONS)/messages.pot .
	$(PYBABEL) update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete
	@# The extraction time changes on every run: kept out of the .po headers so branches merge.
	sed -i '/^"POT-Creation-Date: /d' $(PO_FILES)
	$(MAKE) --no-print-directory compile

compile: $(MO_FILES)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(PYBABEL) compile --statistics -i $< -o $@

# Browser tests drive Debian's chromium through its matching chromedriver; the shared-cache
# tests run a real redis-server (started by the tests themselves on a free port).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
			|| ! command -v redis-server >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver redis-server >/dev/null; \
	fi
	@chromium --version && chromedriver --version && redis-server --version

run: install compile
	$(VENV)/bin/fakeai-dash

# Two tiers, so the whole run stays near 20 minutes on 2 cores: the unit and integration tests
# (each its own FakeAI, ports and data directory) run on two pytest-xdist workers; the browser,
# deploy, load and benchmark-smoke tests then run one at a time, because two Chromiums or two
# gunicorns racing for 2 cores would time the tests rather than the code.
# `make test PYTEST_ARGS=-x` passes arguments to both tiers.
PARALLEL_TIERS := tests/unit tests/integration
test: install-test compile system-deps
	$(PY) -m pytest --headless --benchmark-disable -n 2 $(PARALLEL_TIERS) $(PYTEST_ARGS)
	$(PY) -m pytest --headless --benchmark-disable $(addprefix --ignore=,$(PARALLEL_TIERS)) $(PYTEST_ARGS)

# Every figure in docs/performance.md: micro-benchmarks, then the browser and load measurements
# (minutes), then the memory soak (25 minutes more). `make bench-baseline BASE=<commit>` measures
# an older commit the same way.
bench: install-test system-deps
	$(PY) -m pytest tests/bench --benchmark-only $(PYTEST_ARGS)
	$(MAKE) --no-print-directory bench-app APP_DIR=
	$(PY) -m tests.bench.memory
	$(MAKE) --no-print-directory soak

# Each worker's RSS while three pages watch a job at 10 steps/s for 25 minutes (issue #22 item 6).
# SOAK_ARGS="--minutes 6 --steps-per-second 40 --settle-minutes 1.25": the same events, sooner.
soak: install-test system-deps
	$(PY) -m tests.bench.soak $(SOAK_ARGS)

bench-app:
	$(PY) -m tests.bench.first_visit $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(PY) -m tests.bench.first_visit --sim-jobs 3000 --latency 0.15 $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(PY) -m tests.bench.open_job $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(PY) -m tests.bench.open_cold $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(PY) -m tests.bench.forged_refresh $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(PY) -m tests.bench.forged_ids $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(PY) -m tests.bench.list_push $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(PY) -m tests.bench.list_push --busy $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(PY) -m tests.load.viewers --viewers 1,20,50 --seconds 30 --sim-jobs 3000 --latency 0.15 $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(PY) -m tests.load.viewers --viewers 10 --seconds 30 --sim-jobs 3000 --latency 0.15 --stall 30 $(if $(APP_DIR),--app-dir $(APP_DIR))
	$(if $(APP_DIR),,$(PY) -m tests.load.push --pages 20 --samples 30 --streams 200 --idle-seconds 120)

BASE ?= d8c0a01
bench-baseline: install-test system-deps
	rm -rf .bench-baseline && git worktree add --force --detach .bench-baseline $(BASE)
	$(MAKE) --no-print-directory bench-app APP_DIR=$(CURDIR)/.bench-baseline
	git worktree remove --force .bench-baseline

# The deploy lock (Heroku's buildpack, Dokku, any Procfile platform install it with plain pip):
# requirements.txt, compiled from pyproject.toml with the demo and redis extras, every package
# pinned with the hashes of its files on PyPI. `make lock` keeps the pins it can and adds what
# pyproject.toml asks for; `make lock LOCK_ARGS=--upgrade` moves everything to the newest versions
# (or --upgrade-package dash). It resolves against PyPI only (what the platform installs from),
# not a local pip.conf's mirrors, with the Python of .python-version. tests/unit/test_lock.py
# fails while the lock and pyproject.toml disagree. pip-tools and pip-audit live in a tool venv
# of their own, so neither they nor the pip versions they need touch the app's environment.
TOOLS ?= .venv-tools
LOCK_INDEX ?= https://pypi.org/simple
LOCK_ARGS ?=
AUDIT_ARGS ?=

$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "pip-tools>=7.4" "pip-audit>=2.7"
	touch $@

lock: $(TOOLS)/.installed
	$(TOOLS)/bin/python -m tools.lockfile check-python
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(TOOLS)/bin/pip-compile --quiet --generate-hashes \
		--allow-unsafe --strip-extras --extra demo --extra redis --index-url $(LOCK_INDEX) \
		--output-file requirements.txt $(LOCK_ARGS) pyproject.toml
	$(TOOLS)/bin/python -m tools.lockfile stamp requirements.txt

# Known vulnerabilities in what a deploy runs (PyPI's advisory database). Not part of `make test`:
# where the database cannot be reached it says so and succeeds.
audit: $(TOOLS)/.installed
	$(TOOLS)/bin/python -m tools.audit requirements.txt $(AUDIT_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .hypothesis
