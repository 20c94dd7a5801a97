# `make run` and `make test` do all set-up on a fresh machine: venv, packages, the console's
# browser libraries (npm ci), PostGIS, and for the browser test Chromium with CJK fonts.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

.PHONY: run test fuzz postgis browser assets bench soak clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The console's browser libraries (Leaflet) from the npm registry, as the lockfile pins them.
$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install -y npm (or Node.js 20 with npm)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NPM_STAMP)

assets: $(NPM_STAMP)

# Debian's Chromium and CJK fonts for the console's browser test; installed when missing and we are root.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium and fonts-noto-cjk"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "the browser test needs: sudo apt-get install -y chromium fonts-noto-cjk (skipped without them)"; fi; \
	fi

# PostGIS for the newest PostgreSQL on the machine; installed when missing and we are root.
postgis:
	@major=$$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1); \
	if [ -z "$$major" ]; then echo "PostgreSQL server binaries are missing: apt-get install -y postgresql-15 postgresql-15-postgis-3"; exit 1; fi; \
	if [ ! -f /usr/share/postgresql/$$major/extension/postgis.control ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing PostGIS for PostgreSQL $$major"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-$$major-postgis-3 >/dev/null; \
	  else echo "PostGIS is missing: sudo apt-get install -y postgresql-$$major-postgis-3"; exit 1; fi; \
	fi

run: $(STAMP) $(NPM_STAMP) postgis
	$(VENV)/bin/hazmat up --simulate 668

# The tests that take times from the clock run once more with it a year ahead, just after
# Beijing midnight: a test must pass on any day, not only in the week its fixed dates were
# written, and at any hour, also when "12 minutes ago" was yesterday (time-machine).
TIME_SENSITIVE := tests/unit tests/integration/test_fixes_intake.py tests/integration/test_filling_intake.py \
	tests/integration/test_hostile_input.py tests/integration/test_admin_resources.py \
	tests/integration/test_signals_hostile.py tests/integration/test_plate_reads.py

test: $(STAMP) $(NPM_STAMP) postgis browser
	$(VENV)/bin/pytest
	HAZMAT_CLOCK_SHIFT_DAYS=365 HAZMAT_CLOCK_LOCAL_TIME=00:05 $(VENV)/bin/pytest -q $(TIME_SENSITIVE)

# A long fuzz run: Schemathesis for minutes per role with a random seed (printed with any
# failure) and the stateful phase, and every hypothesis test with many more examples.
fuzz: $(STAMP) postgis
	HAZMAT_FUZZ_SECONDS=180 HAZMAT_FUZZ_SEED=random HAZMAT_FUZZ_PHASES=examples,coverage,fuzzing,stateful \
	  $(VENV)/bin/pytest tests/integration/test_fuzz_api.py --timeout 7200
	HAZMAT_FUZZ_EXAMPLES=20000 $(VENV)/bin/pytest tests/unit --timeout 7200

bench: $(STAMP) postgis
	$(PY) -m bench.ingest
	$(PY) -m bench.core
	$(PY) -m bench.worker
	$(PY) -m bench.presence
	$(PY) -m bench.writes
	$(PY) -m bench.jt808_gateway --terminals 1000
	$(PY) -m bench.jt809_links --links 50

# `hazmat up --simulate 668` for 10 minutes (SOAK_MINUTES), the memory of every process and
# the fix topic's batches sampled every 30 s (issue 26; bench/RESULTS.md).
SOAK_MINUTES ?= 10
soak: $(STAMP) $(NPM_STAMP) postgis
	$(PY) -m bench.soak --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) node_modules .hazmat .pytest_cache .hypothesis
