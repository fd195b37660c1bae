# Two commands for users:  `make report`  and  `make test`.
# Both create .venv and install the project (once; again when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test property-tests install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

report: $(STAMP)
	$(BIN)/nn-compare report

# -n auto: pytest-xdist, one worker per core (the suite is written to run in parallel)
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

# the property tests (tests/test_properties.py) with many more drawn examples (minutes)
property-tests: $(STAMP)
	NN_PROPERTY_PROFILE=long $(BIN)/python -m pytest -q -n auto tests/test_properties.py

clean:
	rm -rf $(VENV) reports .pytest_cache .hypothesis *.egg-info
