# Hashwatch: `make demo` runs the whole app on this machine, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# Test-only keys; real installs set their own (see README, "Configuration").
TEST_SECRET_KEY := test-only-secret-key-not-for-production-0123456789
TEST_FERNET_KEY := 2SnKqDOc4Fu6dNwhiGMHxrdVjJ7qqbvb0qFBEJPFWXg=

.PHONY: demo test lint bench smoke clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "Hashwatch needs Python 3.11 or newer. Install it, or run: make PYTHON=python3.12 ..."; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create a virtualenv. On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(VENV)/.installed
	@$(PY) scripts/demo_env.py >/dev/null
	@set -a; . var/demo.env; set +a; \
	export DATABASE_URL="$${DATABASE_URL:-sqlite:///var/demo.sqlite3}"; \
	if [ -z "$${REDIS_URL:-}" ]; then export CELERY_BROKER_URL=filesystem://; fi; \
	exec $(PY) manage.py demo

test: $(VENV)/.installed-test
	@SECRET_KEY="$${SECRET_KEY:-$(TEST_SECRET_KEY)}" \
	FIELD_ENCRYPTION_KEYS="$${FIELD_ENCRYPTION_KEYS:-$(TEST_FERNET_KEY)}" \
	scripts/with-test-services.sh $(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	@SECRET_KEY="$${SECRET_KEY:-$(TEST_SECRET_KEY)}" \
	FIELD_ENCRYPTION_KEYS="$${FIELD_ENCRYPTION_KEYS:-$(TEST_FERNET_KEY)}" \
	scripts/with-test-services.sh $(PY) -m pytest -m bench -s -p no:randomly tests/bench $(PYTEST_ARGS)

# The production path: `pip install .` without extras into a fresh virtualenv, then the web
# server and every Compose service's command from it, until one scheduled poll has landed.
smoke: $(VENV)/.installed-test
	@scripts/with-test-services.sh $(PY) scripts/production_smoke.py

# What settings.py demands, with no server behind it: makemigrations only reads the (empty)
# SQLite file's migration history, and mypy's Django plugin only loads the settings.
LINT_ENV := SECRET_KEY=$(TEST_SECRET_KEY) FIELD_ENCRYPTION_KEYS=$(TEST_FERNET_KEY) \
	DATABASE_URL=sqlite:///var/lint.sqlite3 CELERY_BROKER_URL=memory://

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache
	@mkdir -p var
	$(LINT_ENV) $(VENV)/bin/mypy dashboard pools exchanges alerts treasury metrics simulator
	@# A model change without its migration would fail on every install's `migrate`.
	$(LINT_ENV) $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
