# Two commands for a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs palmkit with its pinned dependencies the first
# time; later runs reuse .venv unless setup.cfg or the constraints changed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.palmkit-installed
CONSTRAINTS := requirements/constraints.txt
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k config"`.
PYTEST_ARGS ?=

.PHONY: install test test-fast demo clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24" "setuptools>=68" wheel
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e ".[test]"
	touch $(STAMP)

# The whole suite, slow end-to-end tests included (about 4 minutes on 2 cores, plus the first install).
test: $(STAMP)
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

# Everything but the end-to-end tests marked slow.
test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

demo: $(STAMP)
	$(VENV)/bin/palmkit demo --output demo-out

clean:
	rm -rf demo-out build *.egg-info
