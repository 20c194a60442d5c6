# `make run` and `make test` set everything up on a fresh clone: a tool venv with uv, then the
# project's .venv from uv.lock, then the task.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Byte-compiled at install, so no process pays for compiling sources at start (nor when the
# environment forbids writing bytecode at import, as PYTHONDONTWRITEBYTECODE does).
export UV_COMPILE_BYTECODE := 1

.PHONY: install install-dev run once test test-slow test-all lint format bench bench-poll \
	bench-robustness bench-stories bench-delivery bench-replicas bench-relevance bench-saving lock \
	clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(UV)  ## the runtime environment, exactly as locked
	$(UV) sync --frozen --no-dev --inexact --python $(PYTHON)
	$(VENV)/bin/python -m compileall -q monitor

install-dev: $(UV)  ## the runtime environment plus test and lint tools
	$(UV) sync --frozen --python $(PYTHON)
	$(VENV)/bin/python -m compileall -q monitor

run: install  ## migrate, then run the daemon on config/monitor.toml (SQLite by default)
	$(VENV)/bin/monitor db upgrade
	exec $(VENV)/bin/monitor run

once: install  ## one poll of every feed, then deliver; prints a summary line
	$(VENV)/bin/monitor once

test: install-dev  ## the whole suite except tests marked slow
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-slow: install-dev  ## only the slow tests (crash loops, large replays)
	$(VENV)/bin/pytest -m slow $(PYTEST_ARGS)

test-all: install-dev
	$(VENV)/bin/pytest -m "" $(PYTEST_ARGS)

lint: install-dev  ## ruff, mypy (strict on monitor/) and the layer contracts (imports point down)
	$(VENV)/bin/ruff check monitor tests bench
	$(VENV)/bin/ruff format --check monitor tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install-dev
	$(VENV)/bin/ruff check --fix monitor tests bench
	$(VENV)/bin/ruff format monitor tests bench

bench: install-dev  ## throughput of a full poll cycle against a naive feedparser loop
	$(VENV)/bin/python bench/ingest.py

bench-poll: install-dev  ## warm (304) and unchanged-body cycles over 2,000 local feeds
	$(VENV)/bin/python bench/poll.py

bench-robustness: install-dev  ## every file of ../shared/data/feeds through fetch + parse
	$(VENV)/bin/python bench/feeds_robustness.py

bench-stories: install-dev  ## story grouping on the labelled 2023 entries, and its speed to 100k stored
	$(VENV)/bin/python bench/stories.py

bench-delivery: install-dev  ## alerts/s to a local receiver, commit-to-delivery latency, concurrency 1 vs 4
	$(VENV)/bin/python bench/delivery.py

lock: $(UV)  ## refresh uv.lock after changing dependencies in pyproject.toml
	$(UV) lock --python $(PYTHON)

clean:
	rm -rf .tools $(VENV) .mypy_cache .pytest_cache .ruff_cache

bench-replicas: install-dev  ## feeds/s and alerts/s with 1, 2 and 3 daemons on PostgreSQL
	$(VENV)/bin/python bench/replicas.py

bench-saving: install-dev  ## matched articles saved per second: SQLite, PostgreSQL, 3 replicas
	$(VENV)/bin/python bench/saving.py

bench-relevance: install-dev  ## the default topic scored on labelled real feed entries
	$(VENV)/bin/python bench/relevance.py
