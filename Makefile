# Two commands on a fresh machine: `make run` and `make test`. Both create .venv and install.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install redis-server bench clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) redis-server

# The --index redis:// tests start a real redis-server; install it when it is missing
# (Debian or Ubuntu; as root, else through sudo).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
redis-server:
	@command -v redis-server >/dev/null || { \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server; }

# The main job: clean a copy of the seed articles and print the summary.
run: $(STAMP)
	rm -rf out/seeds && mkdir -p out && cp -r fixtures/seeds/input out/seeds
	$(BIN)/cleaner clean out/seeds --in-place --report out/report.jsonl
	@echo "cleaned copies in out/seeds, one JSON line per change in out/report.jsonl"

test: $(STAMP) redis-server
	$(BIN)/ruff check cleaner tests benchmarks
	$(BIN)/mypy cleaner
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/naeb_text.py

clean-venv:
	rm -rf $(VENV)
