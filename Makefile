# Two entry points for a newcomer: `make demo` and `make test`.
# torch==2.13.0 is installed first so that pip takes the local CPU wheel instead of
# resolving the package's torch range to a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test docs clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test,plots]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

# One pytest-xdist worker per core (-n auto), a test module per worker (pyproject's addopts).
test: $(STAMP)
	$(PY) -m pytest -q -n auto

# The docs extra is installed once on top of the venv; the build starts from scratch
# (generated pages and gallery removed) so that it needs no state from earlier runs.
DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	rm -rf docs/_build docs/auto_examples docs/gen_modules
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build *.egg-info
