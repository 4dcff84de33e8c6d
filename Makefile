# lightnvr — one Makefile for running, testing, linting and benchmarking.
# `make run` and `make test` install everything they need on a fresh Debian 12 / Ubuntu machine.

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
CONF    ?= conf/lightnvr.conf
PYTEST_ARGS ?=

# System packages: ffmpeg (benchmark reference, clip making), Debian's GStreamer RTSP server
# (the real test camera), Chromium (UI tests), Node/npm (UI libraries), systemd (unit checks).
APT_RUN  := python3-venv python3-pip
APT_TEST := ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
            gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
            gstreamer1.0-libav gstreamer1.0-tools chromium systemd
# Node.js may come from elsewhere (NodeSource ships npm inside its nodejs package, which
# conflicts with Debian's npm): install Debian's only when no `npm` command exists.
APT_NODE := nodejs npm

.PHONY: run test lint bench venv deps-run deps-test deps-node www-deps clean install arm-check check-contracts

# Install missing Debian packages when we are root (CI, fresh machines); otherwise just say what is missing.
define apt_ensure
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "apt-get install:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing system packages (run as root or install):$$missing"; fi; \
	fi
endef

deps-run:
	$(call apt_ensure,$(APT_RUN))

deps-test: deps-run deps-node
	$(call apt_ensure,$(APT_TEST))

deps-node:
	@command -v npm >/dev/null 2>&1 || { echo "apt-get install: $(APT_NODE)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  $(APT_NODE) >/dev/null; }

$(VENV)/.stamp-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml $(VENV)/.stamp-run
	$(PIP) install -q -e '.[dev]'
	touch $@

www/node_modules/.stamp: www/package.json www/package-lock.json
	cd www && npm ci --no-audit --no-fund --loglevel=error
	touch $@

www-deps:
	@if [ -f www/package-lock.json ]; then $(MAKE) --no-print-directory www/node_modules/.stamp; fi

venv: $(VENV)/.stamp-run

run: deps-run deps-node venv www-deps
	$(PY) -m lightnvr -c $(CONF)

lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check lightnvr tests tools
	$(VENV)/bin/mypy

test: deps-test $(VENV)/.stamp-dev www-deps
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: deps-test $(VENV)/.stamp-dev
	$(PY) tools/bench.py

install: deps-run
	$(PYTHON) -m pip install .
	install -D -m 0644 conf/lightnvr.service /etc/systemd/system/lightnvr.service
	install -D -m 0640 conf/lightnvr.conf /etc/lightnvr/lightnvr.conf

clean:
	rm -rf $(VENV) build dist *.egg-info var test-output www/node_modules
