# Targets only call tools; see README.md.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PORT    ?= 5000
FLASK   := $(BIN)/flask --app wsgi

.PHONY: run serve screenshots test lint fmt db-upgrade db-migrate setup clean bench bench-large \
	translations catalogs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# Languages (README "Languages"): the compiled catalogs are built from the committed .po
# files (and the pseudo-locale's from the template) whenever those are newer.
I18N      := reviews/translations
POT       := $(I18N)/messages.pot
PO_FILES  := $(wildcard $(I18N)/*/LC_MESSAGES/messages.po)
MO_FILES  := $(PO_FILES:.po=.mo) $(I18N)/en_Dsrt/LC_MESSAGES/messages.mo

$(I18N)/%/LC_MESSAGES/messages.mo: $(I18N)/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@

$(I18N)/en_Dsrt/LC_MESSAGES/messages.mo: $(POT) $(STAMP)
	$(BIN)/python -m reviews.catalogs pseudo

catalogs: $(MO_FILES)

# After marking or changing text: extract the template, carry it into every language's
# catalog (new and changed strings untranslated, never guessed), compile. Then translate what
# tests/test_translations.py lists as missing.
translations: $(STAMP)
	$(BIN)/python -m reviews.catalogs extract
	@for po in $(PO_FILES); do \
		$(BIN)/pybabel -q update --ignore-obsolete --no-fuzzy-matching -i $(POT) -o $$po \
			-l $$(basename $$(dirname $$(dirname $$po))) || exit 1; \
	done
	$(MAKE) --no-print-directory catalogs

setup: $(STAMP) catalogs
	$(FLASK) db upgrade
	$(FLASK) setup

run: setup
	@echo "Serving Reviews on http://127.0.0.1:$(PORT)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Production: gunicorn (gunicorn.conf.py: PORT or BIND, WEB_CONCURRENCY) and, when
# REDIS_URL is set, the job worker beside it. Needs SECRET_KEY and DATABASE_URL;
# TRUSTED_PROXIES=1 behind one reverse proxy. Stops both on Ctrl-C or SIGTERM.
serve: $(STAMP) catalogs
	REVIEWS_ENV=production $(FLASK) db upgrade
	@set -e; export REVIEWS_ENV=production; worker=; \
	trap 'test -z "$$worker" || kill -TERM $$worker 2>/dev/null; wait' EXIT; \
	trap 'exit 0' INT TERM; \
	if [ -n "$$REDIS_URL" ]; then \
		$(FLASK) worker & worker=$$!; \
	else \
		echo "REDIS_URL is not set: background jobs run inside the web workers"; \
	fi; \
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app & web=$$!; \
	wait $$web

# PNGs of the main pages at 375 px and 1280 px into docs/screenshots/, and in German into
# docs/screenshots/de/.
screenshots: $(STAMP) catalogs
	$(BIN)/python -m tests.browser.screenshots docs/screenshots
	$(BIN)/python -m tests.browser.screenshots docs/screenshots/de --language de

# The suite runs on SQLite; with TEST_DATABASE_URL set it runs on PostgreSQL too, the two
# passes side by side (they share no database, Redis queue or port): the PostgreSQL pass
# prints as it goes, the SQLite pass's output follows it. Fails if either pass fails.
test: $(STAMP) catalogs
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
		exec $(BIN)/pytest $(PYTEST_ARGS); \
	fi; \
	log=$$(mktemp); \
	env -u TEST_DATABASE_URL $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS) > $$log 2>&1 & lite=$$!; \
	echo "== on PostgreSQL (the SQLite pass runs beside it) =="; \
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS); pg=$$?; \
	wait $$lite; sqlite=$$?; \
	echo "== on SQLite =="; cat $$log; rm -f $$log; \
	echo "== SQLite pass: exit $$sqlite; PostgreSQL pass: exit $$pg =="; \
	test $$sqlite -eq 0 && test $$pg -eq 0

# The full benchmark (10,000 people; PEOPLE=... for fewer), on SQLite and, with
# BENCH_POSTGRES_URL set, on PostgreSQL too; rewrites docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python -m bench --people $(or $(PEOPLE),10000) --write-docs $(BENCH_ARGS)

# The documented large run (issue 22): 100,000 people on PostgreSQL (about 20 minutes
# on 2 cores), in its own tables of docs/benchmarks.md; `python -m bench.compare
# --write-docs` then sets it beside the 10,000-person run.
bench-large: $(STAMP)
	$(BIN)/python -m bench --people 100000 --no-sqlite --write-docs \
		--postgres $(or $(BENCH_POSTGRES_URL),postgresql://postgres@127.0.0.1:5432/postgres) $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

db-upgrade: $(STAMP)
	$(FLASK) db upgrade

db-migrate: $(STAMP)
	$(FLASK) db migrate -m "$(m)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
