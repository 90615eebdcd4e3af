# Two commands on a fresh machine: `make run` and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TRACKER := collector/static/t.js
VIEWER  := collector/static/replay-viewer/viewer.js
DASHBOARD := collector/static/dashboard/app.js

.PHONY: run test install install-test build geo chromium wrk lint bench bench-smoke fuzz clean

run: install build geo
	$(VENV)/bin/clicktrail demo

test: install-test build chromium
	cd tracker-js && npm test
	cd replay-viewer && npm test
	cd dashboard && npm test
	$(PY) -m pytest

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[test]'
	touch $@

build: $(TRACKER) $(VIEWER) $(DASHBOARD)

# npm run build in tracker-js/ writes t.js and t/replay.js (the lazily loaded recorder).
$(TRACKER): tracker-js/node_modules/.installed $(shell find tracker-js/src tracker-js/scripts -type f 2>/dev/null) tracker-js/package.json
	cd tracker-js && npm run build

tracker-js/node_modules/.installed: tracker-js/package.json tracker-js/package-lock.json
	cd tracker-js && npm ci --no-audit --no-fund
	touch $@

$(VIEWER): replay-viewer/node_modules/.installed $(shell find replay-viewer/src replay-viewer/scripts -type f 2>/dev/null) replay-viewer/package.json
	cd replay-viewer && npm run build

replay-viewer/node_modules/.installed: replay-viewer/package.json replay-viewer/package-lock.json
	cd replay-viewer && npm ci --no-audit --no-fund
	touch $@

# npm run build in dashboard/ writes app.js, app.css and the shell index.html; it fails when
# app.js is over its gzip budget.
$(DASHBOARD): dashboard/node_modules/.installed $(shell find dashboard/src dashboard/scripts -type f 2>/dev/null) dashboard/package.json
	cd dashboard && npm run build

dashboard/node_modules/.installed: dashboard/package.json dashboard/package-lock.json
	cd dashboard && npm ci --no-audit --no-fund
	touch $@

# DB-IP's free IP to City Lite database (CC BY 4.0, attribution in the dashboard's footer), the
# collector's default location database; `make run` only (not CI). No network: run without geo.
geo: geo/node_modules/.installed

geo/node_modules/.installed: geo/package.json geo/package-lock.json
	@cd geo && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed \
		&& echo "geo: DB-IP's IP to City Lite database (CC BY 4.0, https://db-ip.com) in geo/node_modules" \
		|| echo "geo: DB-IP's database could not be installed; the collector runs without geolocation"

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

# Schemathesis at length: 200 cases per operation and way, randomised (docs/SECURITY.md).
fuzz: install-test
	CLICKTRAIL_FUZZ_EXAMPLES=200 $(PY) -m pytest tests/test_api_fuzz.py -q -s -p no:cacheprovider

# ruff on Python; biome on the JavaScript of the tracker, the viewer and the dashboard.
lint: install-test tracker-js/node_modules/.installed replay-viewer/node_modules/.installed dashboard/node_modules/.installed
	$(VENV)/bin/ruff check collector tests e2e bench
	$(VENV)/bin/ruff format --check collector tests e2e bench
	$(PY) -m mypy collector
	cd tracker-js && npm run lint
	cd replay-viewer && npm run lint
	cd dashboard && npm run lint

wrk:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q wrk; }

bench: install-test build wrk chromium
	$(PY) bench/ingest.py
	$(PY) bench/query.py
	$(PY) bench/analytics.py
	$(PY) bench/replay.py
	$(PY) bench/hostile.py
	$(PY) bench/redirect.py
	$(PY) bench/dashboard.py
	$(PY) bench/webhooks.py --kill-runs 3
	$(PY) bench/exports.py
	$(PY) bench/explorer.py
	$(PY) bench/explorer.py --engine chdb
	$(PY) bench/stream.py --engine both

# A few seconds of each benchmark: proves they still run (CI); the figures mean nothing.
bench-smoke: install-test build wrk chromium
	$(PY) bench/ingest.py --smoke
	$(PY) bench/ingest.py --smoke --case sustained --enrich-processes 2
	$(PY) bench/query.py --clicks 20000 --runs 10
	$(PY) bench/analytics.py --clicks 20000 --runs 5
	$(PY) bench/replay.py --smoke
	$(PY) bench/hostile.py --smoke
	$(PY) bench/redirect.py --smoke
	$(PY) bench/dashboard.py --smoke
	$(PY) bench/webhooks.py --smoke
	$(PY) bench/exports.py --smoke
	$(PY) bench/explorer.py --clicks 20000 --runs 10
	$(PY) bench/stream.py --clicks 20000 --runs 5

clean:
	rm -rf $(VENV) tracker-js/node_modules replay-viewer/node_modules dashboard/node_modules geo/node_modules $(TRACKER) collector/static/t collector/static/replay-viewer collector/static/dashboard data
