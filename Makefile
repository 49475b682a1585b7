# The two commands of the README, and the instructor's steps. Every target sets up .venv first.
#   make lab    open the course in JupyterLab (students)
#   make test   run every test: unit, oracle, nbgrader round trip, build reproducibility, nbval, and the browser
#               tier (Chromium driven by Playwright; skipped, saying why, where /usr/bin/chromium is missing)
#   make check  the quick one for the edit loop: unit and oracle tests only (no nbgrader, notebooks, browser, Dask)
# Python 3.11 is required (TensorFlow 2.21 wheels); override with `make PYTHON=/path/to/python3.11 ...`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt requirements-nodeps.txt | cksum | cut -d' ' -f1)
# TensorFlow prints a timestamped start-up notice on stderr when oneDNN is on; executed notebooks must be
# comparable run to run, so notebook execution (build, nbval, autograde) turns it off.
NOTEBOOK_ENV := CNNCOURSE_MODE=fast TF_ENABLE_ONEDNN_OPTS=0 TF_CPP_MIN_LOG_LEVEL=2

.PHONY: lab test check build student grade bench doctor formgrader clean

$(STAMP): pyproject.toml constraints.txt requirements-nodeps.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp cnncourse/jupyter/labconfig/default_setting_overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/cnncourse lab

test: $(STAMP)
	$(NOTEBOOK_ENV) $(BIN)/python -m pytest tests solutions --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider --durations=25

# The quick one, for the edit loop: unit and oracle tests, without the system tier (nbgrader round trips, nbval,
# the browser, Dask, pip; see SYSTEM_MODULES in tests/conftest.py). Not the test command: `make test` is.
check: $(STAMP)
	$(NOTEBOOK_ENV) $(BIN)/python -m pytest tests -m "not system" -p no:cacheprovider --durations=10

build: $(STAMP)
	$(NOTEBOOK_ENV) $(BIN)/cnncourse build

# The student edition (dist/student/): the package without answers or hidden checks, and the release notebooks.
# REVEAL=c1_convolution,... keeps those chapters' answers.
student: $(STAMP)
	$(BIN)/cnncourse student $(if $(REVEAL),--reveal $(REVEAL))

grade: $(STAMP)
	@test -n "$(FOLDER)" || (echo "usage: make grade FOLDER=path/to/submitted" && exit 2)
	$(NOTEBOOK_ENV) $(BIN)/cnncourse grade $(FOLDER)

bench: $(STAMP)
	$(BIN)/cnncourse bench conv

doctor: $(STAMP)
	$(BIN)/cnncourse doctor

# The instructor's JupyterLab: started in autograder/ so nbgrader's formgrader finds the course. Unlike `make lab`
# (cnncourse lab, self-study), it keeps nbgrader's formgrader, create-assignment and assignment list.
formgrader: $(STAMP)
	cd autograder && ../$(BIN)/jupyter lab

clean:
	rm -rf $(VENV)
