# Click pipeline sandbox. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
		{ echo "error: $(PYTHON) is missing or older than Python 3.11 (fix: make PYTHON=python3.11 $(MAKECMDGOALS))" >&2; exit 1; }
	@test -x $(VPY) || { echo "creating $(VENV) and installing the project (first run, about 30 s)"; \
		$(PYTHON) -m venv $(VENV) || { echo "error: cannot create $(VENV) (fix: install the venv module, e.g. apt-get install python3-venv)" >&2; exit 1; }; }
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools

test: $(STAMP) ## Run the test suite (what CI runs)
	$(VPY) -m pytest -m "not slow" -q

test-slow: $(STAMP) ## Run the long scenarios too
	$(VPY) -m pytest -m slow -q

emulator: $(STAMP) ## Run the embedded local AWS endpoint in the foreground
	$(VPY) -m emulator

bench-emulator: $(STAMP) ## Benchmark the embedded emulator (latency, throughput; BENCH_ARGS="--items 2000")
	$(VPY) -m tests.bench.bench_emulator $(BENCH_ARGS)

FIXTURES_OUT ?= tests/fixtures

fixtures: $(STAMP) ## Record real pipeline events (embedded emulator) as tests/fixtures/*_recorded_*.json (FIXTURES_OUT=dir)
	$(VPY) -m sandbox.fixtures --out $(FIXTURES_OUT)

.PHONY: fixtures

# --- One command to a running sandbox: Docker when an engine answers, else embedded ---
SANDBOX := $(VENV)/bin/sandbox
STATE_DIR := $(or $(SANDBOX_STATE_DIR),.sandbox)
# `sandbox backend` prints docker|embedded on stdout and why on stderr (BACKEND=... forces one).
CHOOSE_BACKEND = BACKEND="$(BACKEND)" $(SANDBOX) backend

up: $(STAMP) ## Start everything in the foreground (Docker if an engine answers, else embedded; BACKEND=embedded|docker; UP_ARGS="--rate 20"); Ctrl-C stops (the embedded producer: 7 days at most)
	@backend=$$($(CHOOSE_BACKEND)) || exit $$?; \
	if [ "$$backend" = docker ]; then exec $(MAKE) --no-print-directory docker-up; \
	else exec $(SANDBOX) up $(UP_ARGS); fi

down: $(STAMP) ## Stop a sandbox left running (embedded: its pidfile in .sandbox/; Docker: the compose stack)
	@$(SANDBOX) down
	@if [ "$$(BACKEND= $(SANDBOX) backend 2>/dev/null)" = docker ]; then $(MAKE) --no-print-directory docker-down; fi

logs: $(STAMP) ## Follow the logs (Docker: every container; embedded: the functions' CloudWatch Logs)
	@backend=$$($(CHOOSE_BACKEND)) || exit $$?; \
	if [ "$$backend" = docker ]; then exec $(MAKE) --no-print-directory docker-logs; \
	else exec $(SANDBOX) logs --follow; fi

ps: $(STAMP) ## What is running (Docker: the containers; embedded: the process and its function workers)
	@backend=$$($(CHOOSE_BACKEND)) || exit $$?; \
	if [ "$$backend" = docker ]; then exec $(MAKE) --no-print-directory docker-ps; fi; \
	pid=$$(cat $(STATE_DIR)/sandbox.pid 2>/dev/null); \
	if [ -n "$$pid" ] && kill -0 "$$pid" 2>/dev/null; then ps -o pid,ppid,etime,args --pid "$$pid" --ppid "$$pid"; \
	else echo "no embedded sandbox is running (start one with: make up)"; fi

query: $(STAMP) ## SQL over the running sandbox's data lake: make query SQL="SELECT action, count(*) FROM clicks GROUP BY 1" (no SQL: a shell)
	@if [ -n "$$SQL" ]; then exec $(SANDBOX) query "$$SQL" $(QUERY_ARGS); else exec $(SANDBOX) query --shell $(QUERY_ARGS); fi

dashboard: $(STAMP) ## The web dashboard of a running stack (either backend; `make up` serves one itself); DASHBOARD_PORT=8050
	exec $(SANDBOX) dashboard $(if $(DASHBOARD_PORT),--port $(DASHBOARD_PORT))

.PHONY: up down logs ps query dashboard

# --- Docker path (docker-compose.yml; EMULATOR=1 adds docker-compose.emulator.yml) ---
COMPOSE_FILES = -f docker-compose.yml $(if $(filter 1 true yes,$(EMULATOR)),-f docker-compose.emulator.yml)
# `docker compose` (the plugin) first, the standalone `docker-compose` as the fallback.
COMPOSE = $(or $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; \
	elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; fi),docker compose)
SANDBOX_EDGE_PORT ?= 4566

docker-compose-cli:
	@$(COMPOSE) version >/dev/null 2>&1 || { echo "Docker Compose not found: install the compose plugin (docker compose) or docker-compose" >&2; exit 2; }

docker-up: docker-compose-cli ## Compose stack in the foreground (LocalStack; EMULATOR=1: embedded emulator)
	$(COMPOSE) $(COMPOSE_FILES) up --build

docker-down: docker-compose-cli ## Stop the compose stack and delete its volumes
	$(COMPOSE) $(COMPOSE_FILES) down -v --remove-orphans

docker-logs: docker-compose-cli ## Follow the compose stack's logs
	$(COMPOSE) $(COMPOSE_FILES) logs --follow

docker-ps: docker-compose-cli ## List the compose stack's containers
	$(COMPOSE) $(COMPOSE_FILES) ps --all

# Where `make expire` sends its request: ENDPOINT, else AWS_ENDPOINT_URL, else LocalStack's edge port when
# SANDBOX_EDGE_PORT is given, else the running sandbox's endpoint as `sandbox env` tells it (its stack.json; else :4566).
ENDPOINT ?= $(or $(AWS_ENDPOINT_URL),$(if $(filter-out file undefined,$(origin SANDBOX_EDGE_PORT)),http://127.0.0.1:$(SANDBOX_EDGE_PORT)))

expire: $(STAMP) ## Delete expired (TTL) items now, on the running sandbox or LocalStack (ENDPOINT=http://host:port)
	@endpoint="$(ENDPOINT)"; [ -n "$$endpoint" ] || endpoint=$$($(SANDBOX) env 2>/dev/null | sed -n 's/^export AWS_ENDPOINT_URL=//p'); \
	endpoint=$${endpoint:-http://127.0.0.1:4566}; \
	out=$$(curl -sSf --max-time 30 -X DELETE "$$endpoint/_aws/dynamodb/expired" 2>&1); rc=$$?; \
	if [ $$rc = 0 ]; then echo "$$out"; \
	elif [ $$rc = 22 ]; then echo "error: $$endpoint refused DELETE /_aws/dynamodb/expired ($${out#curl: }) (fix: point ENDPOINT at the sandbox or LocalStack)" >&2; exit 1; \
	else echo "error: nothing answers at $$endpoint (fix: start the sandbox with \`make up\`, or set ENDPOINT=http://host:port)" >&2; exit 1; fi

test-docker: $(STAMP) ## Run only the Docker tests (LocalStack via testcontainers, compose smoke)
	$(VPY) -m pytest -m docker -q -rs

.PHONY: docker-compose-cli docker-up docker-down docker-logs docker-ps expire test-docker

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache build *.egg-info

.PHONY: help install test test-slow emulator bench-emulator clean
