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

test: $(STAMP) ## Run the test suite (what CI runs); builds the Docker images first when an engine answers, installs chromium when missing (root)
	@t0=$$(date +%s); \
	if docker info >/dev/null 2>&1; then $(SANDBOX) images || echo "warning: the images could not be built: the Docker tests will fail (fix: make images)" >&2; \
	else echo "no Docker engine answers: the Docker tests will skip"; fi; \
	$(VPY) -m sandbox.debian chromium chromium "the dashboard's browser test"; \
	t1=$$(date +%s); \
	$(VPY) -m pytest -m "not slow" -q --durations=15; rc=$$?; \
	t2=$$(date +%s); \
	if [ $$rc = 0 ]; then $(VPY) -m pytest examples -q; rc=$$?; fi; \
	t3=$$(date +%s); \
	echo "make test: images $$((t1 - t0)) s, tests/ $$((t2 - t1)) s, examples/ $$((t3 - t2)) s (exit $$rc)"; \
	exit $$rc

test-slow: $(STAMP) ## Run the long scenarios too
	$(VPY) -m pytest -m slow -q

emulator: $(STAMP) ## Run the embedded local AWS endpoint in the foreground
	$(VPY) -m emulator

bench-emulator: $(STAMP) ## Benchmark the embedded emulator (latency, throughput; BENCH_ARGS="--items 2000")
	$(VPY) -m tests.bench.bench_emulator $(BENCH_ARGS)

bench: $(STAMP) ## Benchmark the pipeline (throughput, latency, cold start; BENCH_ARGS="--peer ministack --soak 900")
	$(VPY) -m tests.bench.pipeline $(BENCH_ARGS)

chaos: $(STAMP) ## Fault-injection scenarios, one table row each (CHAOS_ARGS="--small --scenario flaky-sink --backend embedded|docker|all")
	$(VPY) -m tests.chaos $(CHAOS_ARGS)

bench-persistence: $(STAMP) ## Benchmark persistence: writes/s with and without, snapshot size, restore time (BENCH_ARGS="--kill-run 3000")
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VPY) -m tests.bench.bench_persistence $(BENCH_ARGS)

FIXTURES_OUT ?= tests/fixtures

fixtures: $(STAMP) ## Record real pipeline events (embedded emulator) as tests/fixtures/*_recorded_*.json (FIXTURES_OUT=dir)
	$(VPY) -m sandbox.fixtures --out $(FIXTURES_OUT)

.PHONY: fixtures

# --- One command to a running sandbox: Docker when an engine answers, else embedded ---
SANDBOX := $(VENV)/bin/sandbox
STATE_DIR := $(or $(SANDBOX_STATE_DIR),.sandbox)
# What `sandbox` reads from make's command line (`make up EMULATOR=1`, `make up COMPOSE=docker-compose`).
export BACKEND EMULATOR COMPOSE LOCALSTACK_IMAGE SANDBOX_EDGE_PORT SANDBOX_HTTP_SINK_PORT
# `sandbox backend` prints docker|embedded on stdout and why on stderr: LocalStack when its image is here or
# can be pulled, else the same compose stack with our emulator image, else embedded (BACKEND=/EMULATOR= force).
CHOOSE_BACKEND = $(SANDBOX) backend

up: $(STAMP) ## Start everything in the foreground (Docker if an engine answers, else embedded; BACKEND=embedded|docker, EMULATOR=1|0; UP_ARGS="--rate 20"); Ctrl-C stops
	@backend=$$($(CHOOSE_BACKEND)) || exit $$?; \
	if [ "$$backend" = docker ]; then exec $(SANDBOX) compose up --no-explain; \
	else exec $(SANDBOX) up $(UP_ARGS); fi

down: $(STAMP) ## Stop and remove what runs: the embedded sandbox (pidfile in .sandbox/) and the compose stack (containers, network, volumes)
	@$(SANDBOX) down
	@if docker info >/dev/null 2>&1; then $(SANDBOX) compose down; fi

logs: $(STAMP) ## Follow the logs (Docker: every container; embedded: the functions' CloudWatch Logs)
	@backend=$$($(CHOOSE_BACKEND)) || exit $$?; \
	if [ "$$backend" = docker ]; then exec $(SANDBOX) compose logs --follow; \
	else exec $(SANDBOX) logs --follow; fi

ps: $(STAMP) ## What is running: the compose stack's containers and the embedded process with its function workers
	@if docker info >/dev/null 2>&1; then $(SANDBOX) compose ps; fi; \
	pid=$$(cat $(STATE_DIR)/sandbox.pid 2>/dev/null); \
	if [ -n "$$pid" ] && kill -0 "$$pid" 2>/dev/null; then kids=$$(pgrep -d, -P "$$pid"); \
		ps -o pid,ppid,etime,args --pid "$$pid$${kids:+,$$kids}" --ppid "$$pid$${kids:+,$$kids}"; \
	else echo "no embedded sandbox is running (start one with: make up)"; fi

query: $(STAMP) ## SQL over the running sandbox's data lake: make query SQL="SELECT action, count(*) FROM clicks GROUP BY 1" (no SQL: a shell)
	@if [ -n "$$SQL" ]; then exec $(SANDBOX) query "$$SQL" $(QUERY_ARGS); else exec $(SANDBOX) query --shell $(QUERY_ARGS); fi

dashboard: $(STAMP) ## The web dashboard of a running stack (either backend; `make up` serves one itself); DASHBOARD_PORT=8050
	exec $(SANDBOX) dashboard $(if $(DASHBOARD_PORT),--port $(DASHBOARD_PORT))

screenshot: $(STAMP) ## Rewrite docs/dashboard.png (the dashboard's browser test, writing its screenshot into docs/)
	SANDBOX_SCREENSHOT_DIR=docs $(VPY) -m pytest -q tests/functional/sandbox/test_dashboard_browser.py

.PHONY: up down logs ps query dashboard screenshot

# --- Docker path: docker-compose.yml (LocalStack) or docker-compose.emulator.yml (EMULATOR=1) ---
images: $(STAMP) ## Build the Docker images without a registry: debootstrap base + wheelhouse + Dockerfile (cached; FORCE=1 rebuilds)
	@$(SANDBOX) images $(if $(filter 1 true yes,$(FORCE)),--force)

docker-up: $(STAMP) ## The compose stack in the foreground, whatever an engine offers (EMULATOR=1: our emulator; COMPOSE=docker-compose)
	@BACKEND=docker $(SANDBOX) compose up

docker-down: $(STAMP) ## Remove the compose stack with its network and volumes
	@$(SANDBOX) compose down

docker-logs: $(STAMP) ## Follow the compose stack's logs
	@$(SANDBOX) compose logs --follow

docker-ps: $(STAMP) ## List the compose stack's containers
	@$(SANDBOX) compose ps

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

.PHONY: images docker-up docker-down docker-logs docker-ps expire test-docker

clean: ## Remove the virtualenv, caches, the downloaded wheelhouse and the embedded sandbox's saved state (the images and the cached base stay)
	rm -rf $(VENV) .pytest_cache build *.egg-info
	rm -f $(STATE_DIR)/snapshot.bin $(STATE_DIR)/.snapshot.bin.*.tmp $(STATE_DIR)/httpsink.jsonl
	rm -f docker/wheelhouse/*.whl docker/wheelhouse/.key

.PHONY: help install test test-slow emulator bench-emulator bench chaos bench-persistence clean
