# `make demo` and `make test` work on a fresh machine: they create .venv from the pinned
# requirements and fetch Fashion-MNIST (Debian's dataset-fashion-mnist) when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DATA := data/FashionMNIST/raw/t10k-labels-idx1-ubyte

.PHONY: all setup data browser lint test demo clean

all: test

# The project itself is installed in editable mode (no dependencies beyond the pinned ones), so
# `import inversion` and the console commands work from any folder.
$(STAMP): requirements.txt requirements-nodeps.txt setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# MadryLab's robustness library, for its model code only (tests/test_robust.py builds its networks to
# check that their checkpoints load with the same logits): without its dependencies, which that code
# does not need and which would add minutes to every install.
$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps robustness==1.2.1.post2
	touch $@

setup: $(STAMP)

$(DATA):
	bash scripts/get_fashion_mnist.sh data

data: $(DATA)

# ruff's lint rules and formatting (settings in pyproject.toml), before any test runs.
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Chromium for the explorer's browser test (skipped with its reason where it cannot be installed).
browser:
	@bash scripts/get_chromium.sh

# The suite in TEST_WORKERS processes (pytest-xdist), one test file per process at a time so that a
# file's shared fixtures are built once, and one CPU thread each, for CI's two cores (most tests are too
# small to use a second thread). On an idle 2-core machine the tests took 8 min this way, where CI had
# needed 31 min for `.ci/run` in one process and 18 min in two (`make demo` included).
# `make test TEST_WORKERS=8` on a larger machine; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2
test: lint $(DATA) browser
	@HF_HUB_OFFLINE=1 OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile \
	  --durations=15 tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The shipped networks in checkpoints/fmnist/ when present, else trains small ones (scripts/demo.sh).
demo: $(STAMP) $(DATA)
	PY=$(PY) bash scripts/demo.sh

clean:
	rm -rf runs/demo demo
