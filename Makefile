# drsim: `make run` and `make test` set everything up on a fresh machine.
# drsim is installed into .venv: `. .venv/bin/activate` puts `drsim` on the PATH (or call .venv/bin/drsim).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
#: The scenario of `make run`, `make report` and `make check` (e.g. make run SCENARIO=scenarios/flat.yaml).
SCENARIO ?= scenarios/tou_peak_valley.yaml

.PHONY: help run report check check-all validate sweep test bench setup clean browser lock

setup: $(STAMP)

# constraints.txt pins every library's version: a fresh machine computes the same bits as the
# saved golden outputs (benchmarks/golden.py), which depend on numpy, scipy, pandas and numba.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Re-pin constraints.txt to what is installed now (after changing pyproject.toml's dependencies:
# install without the pins first, e.g. `.venv/bin/pip install -e '.[test]'`).
lock:
	@{ head -2 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^drsim'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

help:
	@echo "make run          install drsim into .venv and run $(SCENARIO) (SCENARIO=... for another)"
	@echo "make report       the same run, with its report.html"
	@echo "make check        validate $(SCENARIO); make check-all validates every file in scenarios/"
	@echo "make validate     the validation gallery: the defaults against published field results"
	@echo "make sweep        the README's sweep: peak reduction against the peak price and the elasticity"
	@echo "make test         the test suite (installs Debian's chromium for the browser test when root)"
	@echo "make bench        the benchmarks (docs/benchmarks.md)"
	@echo "make lock         re-pin constraints.txt to the installed library versions"
	@echo "then: . .venv/bin/activate   to have drsim on the PATH (or call .venv/bin/drsim)"

run: $(STAMP)
	$(BIN)/drsim run $(SCENARIO)
	@echo "drsim is installed in $(VENV): run '. $(VENV)/bin/activate' to have drsim on the PATH (or call $(BIN)/drsim)"

report: $(STAMP)
	$(BIN)/drsim run $(SCENARIO) --report

check: $(STAMP)
	$(BIN)/drsim validate $(SCENARIO)

check-all: $(STAMP)
	for f in scenarios/*.yaml; do $(BIN)/drsim validate "$$f" || exit 1; done

sweep: $(STAMP)
	$(BIN)/drsim sweep scenarios/sweep_tou_ratio.yaml

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# Debian's chromium, for the report's browser test (tests/test_report_browser.py; skipped without it).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else \
	    echo "chromium not found and not root: the browser test will be skipped (sudo apt-get install chromium)" >&2; \
	  fi; }

# The validation gallery (docs/validation.md): drsim's defaults against published field results.
# Not part of `make test`; rewrites the table in docs/validation.md from the same results it prints.
validate: $(STAMP)
	$(BIN)/python scripts/validate.py --write docs/validation.md

#: The core's reshaping (issue 13), measured side by side (benchmarks/versus.py): the revision
#: before it and the one that ended it; then the working tree against the latter (what the
#: features added since cost).
BENCH_REF ?= 31db364
BENCH_RESHAPED ?= e990f5b

bench: $(STAMP)
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/versus.py --ref $(BENCH_REF) --current $(BENCH_RESHAPED) --sizes 10000 100000 1000000 --repeat 3 --workers 1 2
	$(BIN)/python benchmarks/versus.py --ref $(BENCH_RESHAPED) --sizes 10000 100000 1000000 --repeat 3 --workers 1
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/billing.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/sweep.py --runs 20
	$(BIN)/python benchmarks/powerflow.py
	$(BIN)/python benchmarks/prosumers.py --sizes 100000 1000000 --repeat 3
	$(BIN)/python benchmarks/numerics.py --sizes 10000 100000 --repeat 5

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
