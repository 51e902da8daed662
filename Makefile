# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# Debian packages the tests use: a real browser, CJK fonts, PDF tools, PostgreSQL.
TEST_DEBS := chromium fonts-noto-cjk fonts-wqy-microhei fonts-dejavu-core poppler-utils postgresql \
  redis-server jq
# Debian packages the application itself uses: the PDF fonts (Chinese; Arabic script for Uyghur).
RUN_DEBS := fonts-wqy-microhei fonts-dejavu-core
DEBS ?= $(TEST_DEBS)
export FLASK_APP := surveyapp:create_app
# Python writes its bytecode caches (__pycache__, pytest's rewritten tests) even where the
# environment says not to: otherwise every test run, and every server or command a test starts,
# compiles the package again (about 6 CPU-seconds a pytest collection).
unexport PYTHONDONTWRITEBYTECODE
# npm packages of the tests (Enketo, for tests/openrosa/test_enketo_browser.py).
ENKETO := tests/enketo

.PHONY: run test audit check typecheck docs serve translations translations-update lint bench system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Each catalog compiled when its .po is newer than its .mo (a no-op otherwise).
CATALOGS := $(wildcard surveyapp/translations/*/LC_MESSAGES/messages.po)
translations: $(CATALOGS:.po=.mo)

surveyapp/translations/%/LC_MESSAGES/messages.mo: surveyapp/translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel -q compile -i $< -o $@

# After changing interface wording: extract the messages, update the catalogs, translate
# the new entries in surveyapp/translations/*/LC_MESSAGES/messages.po.
translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o surveyapp/translations/messages.pot .
	$(BIN)/pybabel update -i surveyapp/translations/messages.pot -d surveyapp/translations

run: $(VENV)/.installed translations
	@$(MAKE) --no-print-directory system-deps DEBS="$(RUN_DEBS)"
	$(BIN)/surveyapp db upgrade
	PORT=$(PORT) $(BIN)/surveyapp demo --if-empty
	$(BIN)/surveyapp run --host 127.0.0.1 --port $(PORT)

# A busy package manager (unattended upgrades, another install) is waited for, up to 15 minutes.
system-deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  APT="$$SUDO apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3"; \
	  $$APT update -q && DEBIAN_FRONTEND=noninteractive $$APT install -y -q $$missing; \
	fi

# The whole suite on SQLite and, side by side (TEST_SERIAL=1: one after the other), the tests
# that touch the database again on a real PostgreSQL server started for the run; which ones is
# decided by their fixtures in tests/conftest.py (docs/testing.md). The PostgreSQL run's output
# is printed when both are done.
test: system-deps $(VENV)/.installed-test translations $(ENKETO)/node_modules/.installed audit
	$(BIN)/ruff check surveyapp tests bench
	$(BIN)/ruff format --check surveyapp tests bench
	@$(MAKE) --no-print-directory typecheck docs
	@pg_run() { scripts/with-postgres $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS); }; \
	if [ -n "$(TEST_SERIAL)" ]; then \
	  echo "$(BIN)/pytest -q $(PYTEST_ARGS)"; $(BIN)/pytest -q $(PYTEST_ARGS); sqlite=$$?; \
	  echo "scripts/with-postgres $(BIN)/pytest -q"; pg_run; pg=$$?; \
	else \
	  log=$$(mktemp /tmp/surveyapp-test-pg.XXXXXX); \
	  echo "PostgreSQL run in the background (its output follows the SQLite run's)"; \
	  pg_run > $$log 2>&1 & pid=$$!; \
	  echo "$(BIN)/pytest -q $(PYTEST_ARGS)"; $(BIN)/pytest -q $(PYTEST_ARGS); sqlite=$$?; \
	  wait $$pid; pg=$$?; \
	  echo "scripts/with-postgres $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)"; \
	  cat $$log; rm -f $$log; \
	fi; \
	echo "SQLite run: exit $$sqlite; PostgreSQL run: exit $$pg"; \
	[ $$sqlite = 0 ] && [ $$pg = 0 ]

# bandit against the reviewed baseline (.bandit-baseline.json) and pip-audit on the installed
# versions (skipped with a message offline): docs/operations-security.md.
audit: $(VENV)/.installed-test
	$(BIN)/python scripts/audit

# Enketo's form engine and XForm transformer for the OpenRosa browser test (tests/openrosa).
$(ENKETO)/node_modules/.installed: $(ENKETO)/package.json $(ENKETO)/package-lock.json
	cd $(ENKETO) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

serve: $(VENV)/.installed translations
	$(BIN)/pip install --quiet 'gunicorn>=22,<24'
	$(BIN)/surveyapp db upgrade
	$(BIN)/gunicorn --workers $${WORKERS:-4} --bind 127.0.0.1:$(PORT) wsgi:app

# The inner loop (under two minutes): lint, types and the fast tests, no browser, no
# PostgreSQL, nothing marked slow (tests/slow_tests.txt), hypothesis's quick profile.
check: $(VENV)/.installed-test translations
	$(BIN)/ruff check surveyapp tests bench
	$(BIN)/ruff format --check surveyapp tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow and not browser" $(PYTEST_ARGS)

# mypy, strict on the pure cores (questionnaire/, estimation/, reports/): see [tool.mypy] in pyproject.toml.
typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# The documentation site (docs/, mkdocs.yml), warnings as errors.
docs: $(VENV)/.installed-test
	$(BIN)/mkdocs build --strict --quiet --site-dir .site

lint: $(VENV)/.installed-test
	$(BIN)/ruff check surveyapp tests bench
	$(BIN)/ruff format --check surveyapp tests bench

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .site instance/surveyapp.sqlite*
