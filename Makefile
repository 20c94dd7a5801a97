# `make run` and `make test` do all set-up on a fresh machine: venv, packages, PostGIS.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test postgis bench fuzz clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

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

run: $(STAMP) postgis
	$(VENV)/bin/hazmat up --simulate 668

test: $(STAMP) postgis
	$(VENV)/bin/pytest

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

clean:
	rm -rf $(VENV) .hazmat .pytest_cache .hypothesis
