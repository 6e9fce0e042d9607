# One target per habit. Each creates or reuses .venv and installs what it needs,
# so a fresh machine with python3 and make is enough.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast lint format bench docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	bash scripts/demo.sh

test: install  # on every core; a test module's tests share one worker (module fixtures)
	$(PY) -m pytest -n auto --dist loadfile

test-fast: install  # everything but the minutes-long reliability tests (marked slow)
	$(PY) -m pytest -n auto --dist loadfile -m "not slow"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/audit.py
	$(PY) bench/targets.py
	$(PY) bench/sandbox.py
	$(PY) bench/expressions.py
	$(PY) bench/executor.py
	$(PY) bench/startup.py
	$(PY) bench/watch.py
	$(PY) bench/expiries.py

docs: install
	$(PY) -m ircli.cli.docgen docs/cli.md
	$(VENV)/bin/ircli profile schema | $(PY) -m json.tool --indent 2 > docs/profile.schema.json
	$(VENV)/bin/ircli playbook schema | $(PY) -m json.tool --indent 2 > docs/playbook.schema.json
	$(VENV)/bin/ircli playbook schema --watch | $(PY) -m json.tool --indent 2 > docs/watch.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache reports bench/results
