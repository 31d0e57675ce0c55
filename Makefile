# `make run` starts the station on the embedded defaults; `make test` runs the tests.
# Both install what they need first: Debian packages (when missing) and a pinned venv.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# .installed: everything, tests and training (deploy/install.sh full); .installed-run: the
# station alone (deploy/install.sh run: no TensorFlow, a lean note-seq), all `make run` needs
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.PHONY: run test deps train-deps system bench model doctor clean

run: system $(RUN_STAMP)
	$(PY) -m radio serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

# Two workers: much of the suite waits on real time (streams, drills, pip), so two run
# side by side on two cores (12 min against 27 on a 2-core EPYC; docs/measured.md).
TEST_WORKERS ?= 2

test: deps
	@bash deploy/system-packages.sh --test
	RADIO_TEST_FRESH_INSTALL=1 $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) tests

doctor: system $(RUN_STAMP)
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

# training, the corpus builder and --engine tf need the full venv: TensorFlow, magenta, music21
train-deps: deps

system:
	@bash deploy/system-packages.sh

$(RUN_STAMP): requirements-run.txt requirements.txt pyproject.toml
	PYTHON=$(PYTHON) bash deploy/install.sh $(VENV) run
	touch $(RUN_STAMP)

$(STAMP): requirements.txt requirements-run.txt pyproject.toml
	PYTHON=$(PYTHON) bash deploy/install.sh $(VENV) full
	touch $(STAMP) $(RUN_STAMP)

clean:
	rm -rf $(VENV) build *.egg-info
