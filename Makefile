# Two commands do all the set-up: `make run` and `make test` (see README.md).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_FLAGS ?= -q --disable-pip-version-check
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test serve init system-deps benchmarks clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip

# The run install skips the openai-whisper extra (torch); the test install has everything.
$(VENV)/.run-installed: pyproject.toml | $(PY)
	$(PY) -m pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PY) -m pip install $(PIP_FLAGS) -e '.[test]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(VENV)/bin/clinex init --sample
	$(VENV)/bin/clinex serve --host $(HOST) --port $(PORT)

# System packages first (the test extra builds webrtcvad from source); axe-core, which the browser
# tests inject, comes from the committed npm lock file.
test: system-deps $(VENV)/.test-installed
	@[ node_modules/.installed -nt package-lock.json ] || { npm ci && touch node_modules/.installed; }
	$(PY) -m pytest $(PYTEST_ARGS)

# ffmpeg, espeak-ng, Chromium and npm from the system's packages, only when one is missing.
system-deps:
	@./scripts/system-deps.sh

$(VENV)/.bench-installed: pyproject.toml | $(PY)
	$(PY) -m pip install $(PIP_FLAGS) -e '.[bench]'
	touch $@ $(VENV)/.test-installed $(VENV)/.run-installed

benchmarks: system-deps $(VENV)/.bench-installed
	for script in benchmarks/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
