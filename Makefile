# The two commands for a fresh machine (Python 3.11 and make):
#   make run    set up, migrate, create the sample account, serve on 127.0.0.1:8000
#               with a tunnel relay (agents dial 127.0.0.1:3800) and the background
#               worker beside it
#   make test   set up and run the test suite
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The relay's ports: agents dial the tunnel port (the default RELAY_PUBLIC_URL),
# the web server reaches it on the internal one.
RELAY_TUNNEL_PORT ?= 3800
RELAY_INTERNAL_PORT ?= 3801

# Development defaults for `make run`: SQLite, local-memory cache, the sandbox
# stand-ins as upstreams. Anything already set in the environment wins.
RUN_ENV := DEBUG=$${DEBUG:-1} VISIONA_SANDBOX=$${VISIONA_SANDBOX:-1} \
	VISIONA_SANDBOX_BASE_URL=$${VISIONA_SANDBOX_BASE_URL:-http://$(HOST):$(PORT)} \
	RELAY_PUBLIC_URL=$${RELAY_PUBLIC_URL:-ws://$(HOST):$(RELAY_TUNNEL_PORT)/tunnel}

.PHONY: run stack test install install-dev lint check messages clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The locks (requirements.txt, requirements-dev.txt: every package pinned and hashed)
# are installed only when they changed since the last install: a stamp in the venv
# records it (a new venv has none). See docs/dependencies.md.
INSTALLED := $(VENV)/.installed-runtime
INSTALLED_DEV := $(VENV)/.installed-dev

# The client distribution (client/) is a local folder, which no hash pins: installed
# editable, with --no-deps, after the locks (its dependencies are in the runtime
# lock). The server imports its ONNX pre-flight (visiona_client.preflight).
$(INSTALLED): requirements.txt client/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e ./client
	touch $@

$(INSTALLED_DEV): requirements.txt requirements-dev.txt client/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e ./client
	touch $@

install: $(INSTALLED)

install-dev: $(INSTALLED_DEV)

# Recompile the locks after changing requirements.in or requirements-dev.in (or to take
# newer transitive releases: delete a lock first). Pins already in a lock are kept when
# they still fit. Hashes come from LOCK_INDEX (PyPI), whatever pip.conf says.
LOCK_INDEX ?= https://pypi.org/simple
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --index-url $(LOCK_INDEX)

lock: install-dev
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

run: install
	@# Every port free before anything starts: a taken one stops here, in one line that
	@# names it and the variable that moves it.
	@$(BIN)/python -m visiona.ports $(HOST) PORT=$(PORT) \
		RELAY_TUNNEL_PORT=$(RELAY_TUNNEL_PORT) RELAY_INTERNAL_PORT=$(RELAY_INTERNAL_PORT)
	$(RUN_ENV) $(BIN)/python manage.py migrate --no-input
	$(RUN_ENV) $(BIN)/python manage.py ensure_sample_user
	$(RUN_ENV) $(BIN)/python manage.py build_client
	@# The relay and the background worker run in the background and stop with the web
	@# server (Ctrl-C, or its exit): a background job ignores Ctrl-C, so the trap ends
	@# them. The web server starts only once the relay listens (it writes its ready
	@# file): a relay that cannot start (a port taken) stops make run with its reason.
	ready=$$(mktemp); $(RUN_ENV) $(BIN)/python manage.py run_relay --host $(HOST) \
		--tunnel-port $(RELAY_TUNNEL_PORT) --internal-port $(RELAY_INTERNAL_PORT) \
		--ready-file $$ready & relay=$$!; \
	$(RUN_ENV) $(BIN)/python manage.py db_worker --interval 0.5 & worker=$$!; \
	trap 'kill $$relay $$worker 2>/dev/null; wait $$relay $$worker 2>/dev/null; rm -f $$ready' EXIT INT TERM; \
	while [ ! -s $$ready ]; do \
		if ! kill -0 $$relay 2>/dev/null; then \
			echo "make run: the tunnel relay did not start (its reason is above); nothing is served." >&2; \
			exit 1; \
		fi; \
		sleep 0.2; \
	done; \
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The production-like stack on loopback (docs/streams.md): nginx with deploy/nginx/ in
# front of gunicorn as the image runs it, a relay node, on the PostgreSQL and Redis that
# DATABASE_URL and REDIS_URL name. STACK_ARGS: e.g. "--relays 2 --sandbox".
stack: install
	$(BIN)/python -m deploy.loopback $(STACK_ARGS)

# Two processes (pytest-xdist), whole files each: the live tests mostly wait on servers
# they started, so two halve the time on two cores. PYTEST_WORKERS=0 runs in this process
# (a debugger, -x); PYTEST_ARGS picks tests and options.
PYTEST_WORKERS ?= 2
test: install-dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Coverage of the relay, the devices app and the agent, their own processes included
# (pyproject.toml [tool.coverage.run]); COVERAGE_TESTS picks the tests (default: theirs).
COVERAGE_TESTS ?= tests/relay tests/client tests/devices
coverage: install-dev
	rm -rf var/coverage && mkdir -p var/coverage
	$(BIN)/coverage run -m pytest $(COVERAGE_TESTS) $(PYTEST_ARGS)
	$(BIN)/coverage combine -q
	$(BIN)/coverage report --include='relay/*,client/visiona_client/tunnel*.py,client/visiona_client/h2_internals.py,devices/relay*.py,devices/tunnel*.py'

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy
	$(BIN)/vulture
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/python manage.py check

# Refresh the translation catalogues after changing user-facing strings.
# Only the product's strings (not the tests', the benchmarks' or the client's, which has no
# Django); strings no longer in the code are dropped, not kept as obsolete entries; entries
# name their files without line numbers, so an edit elsewhere in a file changes no entry.
MESSAGES_IGNORE := --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*' \
	--ignore 'client/*' --no-obsolete --add-location=file
messages:
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hant $(MESSAGES_IGNORE)
	DEBUG=1 $(BIN)/python manage.py makemessages -d djangojs -l zh_Hant $(MESSAGES_IGNORE) --ignore 'staticfiles/*'
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var downloads .pytest_cache
