# Two commands do all the set-up on a fresh machine (Python 3.11+, Node.js with npm, and make):
#   make run    start the hub on its embedded defaults (SQLite file + local broker process)
#   make test   prepare PostgreSQL and Apache Kafka (scripts/testenv/prepare.sh), then run the whole test suite
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The browser assets the hub serves itself (package.json: Swagger UI and ReDoc for /docs and /redoc).
ASSETS := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)

.PHONY: run test install schemas

run: $(STAMP) $(ASSETS)
	$(VENV)/bin/kimhub run

test: $(STAMP) $(ASSETS)
	scripts/testenv/prepare.sh
	$(VENV)/bin/python -m pytest

install: $(STAMP) $(ASSETS)

schemas: $(STAMP)
	$(VENV)/bin/python -m contracts.export
	$(VENV)/bin/python -m services.asyncapi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kimhub needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[embedded,dev]'
	rm -f $(VENV)/.installed-*
	touch $@

$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "kimhub needs npm (Node.js) for its browser assets"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@
