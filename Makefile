# One-command set-up: every target creates the virtualenv it needs from pyproject.toml + constraints.txt.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
SPECSER := $(VENV)/bin/specser
RAVDESS ?= $(or $(SPECSER_RAVDESS),../shared/data/ravdess)
RUNS    ?= runs

.PHONY: install test demo clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e ".[test,baselines,export,serve,ssl]"
	touch $@

test: install
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadgroup

# The paper's recipe on RAVDESS (6 classes), twice: the paper's random 80/20 holdout, and a
# speaker-independent holdout (the EmoBox fold-1 test actors 01, 11, 20, 21). About 4 min on 2 CPU cores.
demo: install
	$(SPECSER) data --data $(RAVDESS)
	$(SPECSER) train --data $(RAVDESS) --out $(RUNS)/demo-random --overwrite
	$(SPECSER) train --data $(RAVDESS) --out $(RUNS)/demo-speakers --test-speakers 01,11,20,21 --overwrite
	@echo; for r in $(RUNS)/demo-random $(RUNS)/demo-speakers; do echo "== $$r/report.md"; \
	  sed -n '/^| protocol/p;/^## Test results/,/^| macro F1/p' $$r/report.md; done

clean:
	rm -rf $(VENV) $(RUNS) .pytest_cache
