# One virtual environment in .venv, made on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# CPU build of torch: small and fast to install. GPU workstations: see README.
TORCH_SPEC ?= torch==2.13.0

.PHONY: run test test-slow lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev,training,packaging]"
	$(PY) -m pip install --quiet --no-deps "labelme==5.9.1"  # test-only, see pyproject
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/dsaviewer --demo

test: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest
	$(VENV)/bin/ruff check dsaviewer training tests benchmarks
	$(VENV)/bin/lint-imports

test-slow: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m slow

# Mutation fuzzing of the readers, each input limited to 10 s and 3 GiB (tests/fuzz/); e.g.
# make fuzz FUZZ_ARGS="--inputs 20000 --seed 7".
.PHONY: fuzz
fuzz: $(VENV)/.installed
	nice $(PY) tests/fuzz/fuzz_readers.py $(FUZZ_ARGS)

bench: $(VENV)/.installed
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# The packaged program in dist/DSAViewer (docs/packaging.md); e.g.
# make package PACKAGE_ARGS="--selftest" or PACKAGE_ARGS="--variant cuda".
.PHONY: package
package: $(VENV)/.installed
	$(PY) packaging/build.py $(PACKAGE_ARGS)

clean:
	rm -rf $(VENV) build dist
