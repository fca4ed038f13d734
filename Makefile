# Two commands on a fresh machine:
#   make run    set everything up (venv, install, migrate SQLite, demo data) and serve on 127.0.0.1:5000
#   make test   run the whole test suite (on PostgreSQL when it is reachable, else SQLite)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install serve migrate demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/flask --app erp db upgrade

demo: migrate
	$(BIN)/flask --app erp demo load --if-empty

run: demo
	$(BIN)/flask --app erp run --host 127.0.0.1 --port 5000

test: install
	bash scripts/test.sh

clean:
	rm -rf $(VENV) instance/*.sqlite3*
