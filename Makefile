# Maestro: two commands on a fresh machine (Python 3.11 and make):
#   make run    start the server on the embedded SQLite store (localhost:50051)
#   make test   lint, check the generated code, run the whole suite with coverage
#
# uv is installed into .tools/ when it is not on PATH; the environment is
# .venv/, built from uv.lock.

SHELL := /bin/bash
UV_VERSION := 0.13.8
PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen --no-sync

export UV_PYTHON_DOWNLOADS ?= never

# The maestro-client wheel (clients/python), with the stubs of generated/.
client: env
	$(UV) build --wheel --out-dir dist clients/python

.PHONY: run test env client generate check-generated lint lint-proto breaking bench clean help

help:
	@echo "make run | test | generate | lint | bench | clean"

$(CURDIR)/.tools/bin/uv:
	@echo "uv not found: installing uv $(UV_VERSION) into .tools/"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Bytecode is compiled once here (about 20 s on a new venv, nothing after):
# with PYTHONDONTWRITEBYTECODE set, as on some machines, every process the
# suite starts would otherwise compile scikit-learn, MLflow and SQLAlchemy
# again (importing the server with them took 9.3 s uncompiled, 3.6 s compiled).
env: $(UV)
	@$(UV) sync --frozen --quiet --compile-bytecode
	@$(UV) run --frozen --no-sync python -m compileall -q -j 0 maestro_grpc workers generated >/dev/null

run: env
	$(RUN) maestro serve

generate: env
	rm -rf generated && mkdir generated
	$(RUN) buf generate
	$(RUN) buf build --as-file-descriptor-set -o generated/maestro/descriptor_set.binpb

# Fails when generated/ differs from what the protos produce (bytecode caches
# aside: `make env` compiles generated/ too).
check-generated: env
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(RUN) buf generate --output "$$tmp" && \
	$(RUN) buf build --as-file-descriptor-set -o "$$tmp/generated/maestro/descriptor_set.binpb" && \
	if ! diff -r -x __pycache__ "$$tmp/generated" generated >/dev/null; then \
	  echo "generated/ is out of date with proto/: run 'make generate' and commit" >&2; \
	  diff -r -x __pycache__ "$$tmp/generated" generated | head -20 >&2; exit 1; \
	else echo "generated/ matches proto/"; fi

lint-proto: env
	$(RUN) buf lint

# Compares the wire contract with main's (run in CI once main has protos).
breaking: env
	$(RUN) buf breaking --against '.git#branch=main'

# The rules of README's "Layout and design", checked: ruff (with complexity
# budgets), mypy strict over everything, the import contracts, and the
# module and function size budgets.
lint: env lint-proto
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports
	$(RUN) python tools/check_sizes.py maestro_grpc workers

# Tests run in parallel, one worker per core (PYTEST_WORKERS=1 for one).
PYTEST_WORKERS ?= auto
test: env lint check-generated
	$(RUN) pytest -n $(PYTEST_WORKERS) --cov --cov-branch --cov-report=term --cov-fail-under=85 $(PYTEST_ARGS)

# Each benchmark prints its figures beside a limit measured in the same run;
# BENCH=ingest runs one of them.
BENCHES := registry ingest blobs agent_git agent_stream predict experiments soak web recommend feed summary
bench: env
	@set -e; for b in $(or $(BENCH),$(BENCHES)); do \
	  echo "== bench/$$b.py"; $(RUN) python bench/$$b.py; done

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .coverage* htmlcov
