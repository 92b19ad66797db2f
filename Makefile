# Guanxi — the two commands the README promises:
#   make demo   set up, migrate, generate demo data, print the demo login, serve http://127.0.0.1:8000
#   make test   set up, lint, run the whole suite and fuzz the REST API with schemathesis
#               (SQLite by default; PostgreSQL with GUANXI_DATABASE_URL)
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

PYTHON := $(shell scripts/find-python)
UV := $(shell command -v uv 2>/dev/null || echo .bootstrap/bin/uv)
GX := .venv/bin/guanxi
DEMO_CUSTOMERS ?= 10000
DEMO_SEED ?= 42
PYTEST_ARGS ?=

.PHONY: help demo serve test lint format messages clean api-fuzz

help:
	@echo "make demo   - set up, load the demo company and serve it on http://127.0.0.1:8000"
	@echo "make test   - set up, lint and run every test"

.bootstrap/bin/uv:
	@test -n "$(PYTHON)" || { echo "No Python 3.12+ found." >&2; exit 1; }
	$(PYTHON) -m venv .bootstrap
	.bootstrap/bin/pip install --quiet --disable-pip-version-check uv

# The demo does not need Spark; --inexact keeps it installed if `make test` put it there.
.venv/.demo-synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --python $(PYTHON)
	@touch $@

.venv/.test-synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --extra spark
	@touch $@ .venv/.demo-synced

demo: .venv/.demo-synced
	$(GX) migrate --noinput
	$(GX) demo --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --keep-existing
	$(GX) serve 127.0.0.1:8000

serve: .venv/.demo-synced
	$(GX) serve 127.0.0.1:8000

lint: .venv/.test-synced
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

test: lint
	.venv/bin/python -m pytest $(PYTEST_ARGS)
	scripts/api-fuzz

api-fuzz: .venv/.test-synced
	scripts/api-fuzz

format: .venv/.test-synced
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# Regenerate the catalogues after changing user-visible strings (needs GNU gettext).
messages: .venv/.test-synced
	cd src/guanxi && ../../$(GX) makemessages --locale zh_Hans --no-obsolete --add-location file
	cd src/guanxi && ../../$(GX) compilemessages --locale zh_Hans

clean:
	rm -rf .venv .bootstrap .pytest_cache .ruff_cache
