# drsim: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench validate setup clean browser

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/drsim run scenarios/tou_peak_valley.yaml

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

#: The revision the working tree is measured against, side by side (benchmarks/versus.py).
BENCH_REF ?= 31db364

bench: $(STAMP)
	$(BIN)/python benchmarks/versus.py --ref $(BENCH_REF) --sizes 10000 100000 1000000 --repeat 3 --workers 1 2
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/billing.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/sweep.py --runs 20

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
