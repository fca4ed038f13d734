# Two commands on a fresh machine:
#   make run    set everything up (venv, install, migrate SQLite, demo data) and serve on 127.0.0.1:5000
#   make test   run the whole test suite (on PostgreSQL when it is reachable, else SQLite)
#   make serve  production: migrate PostgreSQL and serve under gunicorn (docs/operations.md)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install serve migrate demo clean translations vendor

CATALOGUES := $(patsubst %.po,%.mo,$(wildcard erp/translations/*/LC_MESSAGES/messages.po))

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Compiled message catalogues are build output (not committed): rebuilt when a .po changes.
erp/translations/%/LC_MESSAGES/messages.mo: erp/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/python scripts/i18n.py compile

install: $(STAMP) $(CATALOGUES)

# New or changed page texts and messages: extract them into both catalogues, then
# translate the new Chinese entries in erp/translations/zh/LC_MESSAGES/messages.po.
translations: $(STAMP)
	$(BIN)/python scripts/i18n.py extract
	$(BIN)/python scripts/i18n.py check || true

# Refresh the vendored browser assets from the npm registry (never needed by run or test).
vendor:
	bash scripts/vendor.sh

migrate: install
	$(BIN)/flask --app erp db upgrade

demo: migrate
	$(BIN)/flask --app erp demo load --if-empty

run: demo
	$(BIN)/flask --app erp run --host 127.0.0.1 --port 5000

# Production serving: gunicorn (gunicorn.conf.py: workers, threads and connection pools sized
# from the cores, JSON logs, graceful shutdown) against PostgreSQL, after migrating it.
# ERP_DATABASE_URL defaults to the local server's heyi database; ERP_BIND to 127.0.0.1:8000.
SERVE_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/heyi
serve: install
	ERP_DATABASE_URL="$${ERP_DATABASE_URL:-$(SERVE_DATABASE_URL)}" $(BIN)/flask --app erp db upgrade
	ERP_DATABASE_URL="$${ERP_DATABASE_URL:-$(SERVE_DATABASE_URL)}" exec $(BIN)/gunicorn -c gunicorn.conf.py

test: install
	bash scripts/test.sh

clean:
	rm -rf $(VENV) instance/*.sqlite3*
