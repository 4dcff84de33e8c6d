# lightnvr — one Makefile for running, testing, linting and benchmarking.
# `make run` and `make test` install everything they need on a fresh Debian 12 / Ubuntu machine.

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
CONF    ?= conf/lightnvr.conf
PYTEST_ARGS ?= -n 2 --dist loadfile  # two workers (pytest-xdist): most tests wait on real time

# System packages: ffmpeg (benchmark reference, clip making), Debian's GStreamer RTSP server
# (the real test camera), Chromium (UI tests), Node/npm (UI libraries), systemd (unit checks).
APT_RUN  := python3-venv python3-pip
APT_TEST := ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
            gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
            gstreamer1.0-libav gstreamer1.0-tools chromium systemd shellcheck mosquitto
# Node.js may come from elsewhere (NodeSource ships npm inside its nodejs package, which
# conflicts with Debian's npm): install Debian's only when no `npm` command exists.
APT_NODE := nodejs npm

.PHONY: run test lint bench venv deps-run deps-test deps-node www-deps clean install arm-check
.PHONY: help
.DEFAULT_GOAL := help

help:  # plain `make` lists the targets instead of installing packages
	@echo "make run        install what it needs, start the NVR with a demo camera (http://localhost:8080)"
	@echo "make test       install what the tests need (apt, pip, npm), run lint and the whole suite"
	@echo "make lint       ruff and mypy"
	@echo "make bench      the benchmarks (docs/performance.md); BENCH_ARGS=script.py or --quick"
	@echo "make install    (root) install as a systemd service under /opt/lightnvr (docs/deploy.md)"
	@echo "make arm-check  (root) run the wheel on arm64 Debian under qemu-user (docs/deploy.md)"
	@echo "make www-deps   npm ci in www/ (the UI's JavaScript, from package-lock.json)"
	@echo "make venv       create .venv with the package installed"
	@echo "make clean      remove .venv, build output, var/, test-output/, www/node_modules"

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
	$(VENV)/bin/ruff check lightnvr tests tools include_spec
	$(VENV)/bin/mypy

test: deps-test $(VENV)/.stamp-dev www-deps
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks (docs/performance.md): on an idle machine. LIGHTNVR_C=<binary> adds LightNVR C
# to the recording table; BENCH_ARGS picks scripts or --quick (e.g. BENCH_ARGS=bench_recording.py).
LIGHTNVR_C ?=
BENCH_ARGS ?=
bench: deps-test $(VENV)/.stamp-dev
	LIGHTNVR_C=$(LIGHTNVR_C) $(PY) tools/bench.py $(BENCH_ARGS)

# Install as a system service (Debian / Raspberry Pi OS): a venv under /opt, the unit, a
# production config (absolute paths, no demo camera) and a `lightnvr` system user.
PREFIX_VENV ?= /opt/lightnvr
install: deps-run deps-node www-deps
	@[ "$$(id -u)" = 0 ] || { echo "make install needs root"; exit 1; }
	$(PYTHON) -m venv $(PREFIX_VENV)
	$(PREFIX_VENV)/bin/pip install -q .
	ln -sfn $(PREFIX_VENV)/bin/lightnvr /usr/local/bin/lightnvr
	install -d /usr/share/lightnvr
	ln -sfn "$$($(PREFIX_VENV)/bin/python -c 'import lightnvr, os; print(os.path.join(os.path.dirname(lightnvr.__file__), "www"))')" /usr/share/lightnvr/www
	getent group lightnvr >/dev/null || groupadd --system lightnvr
	id -u lightnvr >/dev/null 2>&1 || useradd --system --gid lightnvr --home-dir /var/lib/lightnvr --no-create-home --shell /usr/sbin/nologin lightnvr
	install -D -m 0644 conf/lightnvr.service /etc/systemd/system/lightnvr.service
	@if [ ! -e /etc/lightnvr/lightnvr.conf ]; then install -d /etc/lightnvr; \
	  sed -e 's|^pid_file = .*|pid_file = /run/lightnvr/lightnvr.pid|' -e 's|^log_file = .*|log_file = /var/log/lightnvr/lightnvr.log|' \
	      -e 's|^path = ./var/recordings|path = /var/lib/lightnvr/recordings|' -e 's|^path_hls = .*|path_hls = /run/lightnvr/hls|' \
	      -e 's|^path = ./var/lightnvr.db|path = /var/lib/lightnvr/lightnvr.db|' -e 's|^root = .*|root = /usr/share/lightnvr/www|' \
	      -e 's|^swap_file = .*|swap_file = /var/lib/lightnvr/swap|' -e 's|^config_dir = .*|config_dir = /var/lib/lightnvr/go2rtc|' \
	      -e 's|^demo_mode = true|demo_mode = false|' conf/lightnvr.conf > /etc/lightnvr/lightnvr.conf; \
	  chgrp lightnvr /etc/lightnvr/lightnvr.conf; chmod 0640 /etc/lightnvr/lightnvr.conf; fi
	$(PREFIX_VENV)/bin/lightnvr check-config /etc/lightnvr/lightnvr.conf >/dev/null
	-systemctl daemon-reload

# Proof on ARM (docs/deploy.md): debootstrapped arm64 Debian under qemu-user; not part of `make test`.
arm-check: deps-test $(VENV)/.stamp-dev www-deps
	$(PY) tools/arm_check.py $(ARM_CHECK_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info var test-output www/node_modules
