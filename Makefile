# `make run` starts the station on the embedded defaults; `make test` runs the tests.
# Both install what they need first: Debian packages (when missing) and a pinned venv.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test deps system bench model doctor clean

run: deps
	$(PY) -m radio serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

# Two workers: much of the suite waits on real time (streams, drills, pip), so two run
# side by side on two cores (12 min against 27 on a 2-core EPYC; docs/measured.md).
TEST_WORKERS ?= 2

test: deps
	@bash deploy/system-packages.sh --test
	RADIO_TEST_FRESH_INSTALL=1 $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) tests

doctor: deps
	$(PY) -m radio doctor

bench: deps
	$(PY) bench/chain_cpu.py

# Rebuilds the default model: the corpus (a song per folk tune over mma grooves, plus game
# MIDI; ~2,700 files, ~10 min), then training (resumes from data/train/default).
model: deps
	@bash deploy/system-packages.sh --corpus
	$(PY) -m radio build-corpus --out data/corpus --seed 2026
	$(PY) -m radio train --sets data/corpus --work data/train/default --out radio/assets/model --steps $${STEPS:-1000}

deps: system $(STAMP)

system:
	@bash deploy/system-packages.sh

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (TensorFlow 2.21 + magenta need Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps magenta==2.1.4
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info
