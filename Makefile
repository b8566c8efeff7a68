# Every target sets up its own environment in .venv: requirements.txt for running Agent OS
# (venv, demo, bench), plus requirements-test.txt for test and typecheck. Each file is
# reinstalled when it changes. Nothing is installed outside the project.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements.stamp
TEST_STAMP := $(VENV)/.requirements-test.stamp
# The agent CLIs the tests drive, pinned in tools/npm/package-lock.json. Without npm the
# CLI tests skip (saying so) and everything else still runs.
# pytest-xdist: most tests wait on processes and sockets, so three workers beat two cores.
PYTEST_ARGS ?= -n 3
NPM := $(shell command -v npm 2>/dev/null)
NPM_STAMP := tools/npm/node_modules/.agentos.stamp

.PHONY: test lint typecheck venv bench clean-venv npm-tools demo bwrap gh chromium

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@cp requirements.txt $(STAMP)

$(TEST_STAMP): requirements-test.txt $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@cp requirements-test.txt $(TEST_STAMP)

test: $(TEST_STAMP) lint typecheck bwrap gh chromium $(if $(NPM),npm-tools)
	$(PY) -m pytest $(PYTEST_ARGS)

# Formatting and lint rules are in pyproject.toml ([tool.ruff]); `ruff format .` fixes the first.
lint: $(TEST_STAMP)
	$(PY) -m ruff format --check --quiet .
	$(PY) -m ruff check --quiet .

typecheck: $(TEST_STAMP)
	$(PY) -m mypy

# The whole loop on the sandboxes, offline (docs/demo.md). DEMO_ARGS="--agent claude" for a real agent.
demo: $(STAMP)
	bin/agentos demo $(DEMO_ARGS)

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Agents run confined by bubblewrap (docs/security.md). When `bwrap` is missing, Debian's
# package is installed (as root, or with sudo that asks no password); otherwise this says how,
# and the confinement tests skip.
bwrap:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else echo "bwrap is missing and this user cannot install it: apt-get install bubblewrap" \
	    "as root (or set agents.isolation: none; docs/security.md)"; exit 0; fi; \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "bwrap is missing: install bubblewrap with your package manager"; exit 0; fi; \
	  $$sudo apt-get install -y --no-install-recommends bubblewrap 2>/dev/null \
	    || { $$sudo apt-get update -q && \
	         $$sudo apt-get install -y --no-install-recommends bubblewrap; }; }

# The real `gh` CLI is tested against the sandbox served over HTTPS, whose certificate the
# `openssl` command makes (tests/sandbox/github/test_gh_cli.py). Whichever is missing is installed
# from Debian's packages as for bwrap (reading the package index first when apt has none);
# otherwise this says how, and those tests skip.
gh:
	@missing=""; command -v gh >/dev/null 2>&1 || missing=" gh"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else echo "missing:$$missing; this user cannot install it: apt-get install$$missing" \
	    "as root (the gh CLI tests skip)"; exit 0; fi; \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "missing:$$missing; install it with your package manager"; exit 0; fi; \
	  echo "installing$$missing (Debian's packages)"; log=$$(mktemp); \
	  { $$sudo apt-get install -qq -y --no-install-recommends $$missing \
	    || { $$sudo apt-get update -qq && \
	         $$sudo apt-get install -qq -y --no-install-recommends $$missing; }; } >$$log 2>&1 \
	    || { cat $$log; rm -f $$log; exit 1; }; rm -f $$log; }

# The dashboard is tested in a real browser (tests/dashboard/test_browser.py): Playwright's
# Python API (requirements-test.txt) drives Debian's `chromium`, never a browser Playwright
# downloads. Installed as for gh, without the recommended packages; otherwise this says how,
# and the browser test skips.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else echo "chromium is missing and this user cannot install it: apt-get install" \
	    "--no-install-recommends chromium as root (the browser test skips)"; exit 0; fi; \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "chromium is missing: install it with your package manager"; exit 0; fi; \
	  echo "installing chromium (Debian's package)"; log=$$(mktemp); \
	  { $$sudo apt-get install -qq -y --no-install-recommends chromium \
	    || { $$sudo apt-get update -qq && \
	         $$sudo apt-get install -qq -y --no-install-recommends chromium; }; } >$$log 2>&1 \
	    || { cat $$log; rm -f $$log; exit 1; }; rm -f $$log; }

npm-tools: $(NPM_STAMP)

$(NPM_STAMP): tools/npm/package.json tools/npm/package-lock.json
	npm ci --prefix tools/npm --no-audit --no-fund
	@cp tools/npm/package-lock.json $(NPM_STAMP)

clean-venv:
	rm -rf $(VENV)
