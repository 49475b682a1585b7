# The two commands of the README, and the instructor's steps. Every target sets up the virtual environment first.
#   make lab    open the course in JupyterLab (students)
#   make test   run every test: unit, oracle, nbgrader round trip, build reproducibility, nbval, and the browser
#               tier (Chromium driven by Playwright; skipped, saying why, where /usr/bin/chromium is missing)
#   make check  the quick one for the edit loop: unit and oracle tests only (no nbgrader, notebooks, browser, Dask)
# The install matrix (docs/architecture.md, "The install matrix"):
#   GPU=0       the CPU install, the default: pip's extra `cpu` (tensorflow-cpu, jax, jaxlib), constraints.txt
#   GPU=1       the GPU install: extra `gpu` (tensorflow[and-cuda], jax[cuda12]), constraints.txt and
#               constraints-gpu.txt; cnncourse/preflight.py stops it before anything is installed when no NVIDIA
#               driver answers
#   PYTHON=...  the interpreter: Python 3.11, 3.12 or 3.13; by default the first of python3.11, python3.12,
#               python3.13, python3 on PATH that runs and is one of those
#   VENV=...    where the virtual environment goes (.venv); a change of GPU or Python rebuilds it from scratch
#   JOBS=...    pytest-xdist workers of `make test` (2: one per core of the CI machine; JOBS=1 for one worker);
#               tests/conftest.py says which tests stay together on one worker

GPU ?= 0
JOBS ?= 2
ifneq ($(GPU),0)
ifneq ($(GPU),1)
$(error GPU=$(GPU) is not an install type: expected GPU=0 (the CPU install, the default) or GPU=1 (the GPU install, CUDA 12))
endif
endif
EXTRA := $(if $(filter 1,$(GPU)),gpu,cpu)
CONSTRAINTS := -c constraints.txt $(if $(filter 1,$(GPU)),-c constraints-gpu.txt)
SUPPORTED_PYTHON := import sys; sys.exit(sys.version_info[:2] not in [(3, 11), (3, 12), (3, 13)])
# a pyenv shim may be on PATH and still fail to run: each candidate must run and be a supported version
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3.11 python3.12 python3.13 python3; do \
	$$p -c '$(SUPPORTED_PYTHON)' >/dev/null 2>&1 && $$p -c 'import sys; print(sys.executable)' && break; done)
endif
PYTHON_ID := $(if $(PYTHON),$(shell $(PYTHON) -c 'import sys; print(sys.executable, sys.version.split()[0])' 2>/dev/null))
VENV ?= .venv
BIN := $(VENV)/bin
# what the environment is made of: the pins, the install type and the interpreter; any change rebuilds it
INSTALL_KIND := extra=$(EXTRA) python=$(PYTHON_ID)
STAMP := $(VENV)/.installed-$(shell { cat pyproject.toml constraints.txt constraints-gpu.txt requirements-nodeps.txt; \
	echo '$(INSTALL_KIND)'; } | cksum | cut -d' ' -f1)
# Notebook execution (build, nbval, autograde) runs in fast mode with TensorFlow's info logs off. oneDNN stays on (about
# twice as fast on a CPU); the notice TensorFlow then writes at import is kept out of the cells by the kernel
# configuration below, not by switching oneDNN off (docs/architecture.md, "Stable notebook outputs").
NOTEBOOK_ENV := CNNCOURSE_MODE=fast TF_CPP_MIN_LOG_LEVEL=2
# Every kernel of the environment reads it: low-level (C/C++) output goes to the kernel's log, not into a cell.
KERNEL_CONFIG := $(VENV)/etc/ipython/ipython_kernel_config.json

.PHONY: lab test check build student grade bench doctor formgrader clean

$(STAMP): pyproject.toml constraints.txt constraints-gpu.txt requirements-nodeps.txt
	@test -n "$(PYTHON)" || { echo "No supported Python found: the course installs on Python 3.11, 3.12 or 3.13, and" \
		"none of python3.11, python3.12, python3.13, python3 on PATH is one. Install one, or name it:" \
		"make ... PYTHON=/path/to/python3.12" >&2; exit 2; }
	$(PYTHON) cnncourse/preflight.py $(if $(filter 1,$(GPU)),--gpu)
	@if [ "$$(cat $(VENV)/.install-kind 2>/dev/null)" != '$(INSTALL_KIND)' ]; then \
		echo "new environment in $(VENV): $(INSTALL_KIND)"; $(PYTHON) -m venv --clear $(VENV); fi
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet $(CONSTRAINTS) -e '.[$(EXTRA)]'
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp cnncourse/jupyter/labconfig/default_setting_overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	echo '$(INSTALL_KIND)' > $(VENV)/.install-kind
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

$(KERNEL_CONFIG): cnncourse/jupyter/ipython_kernel_config.json $(STAMP)
	mkdir -p $(dir $@)
	cp $< $@

lab: $(STAMP) $(KERNEL_CONFIG)
	$(BIN)/cnncourse lab

# After the tests, each tier's time (tools/tier_times.py, from the JUnit report); the exit status is pytest's.
test: $(STAMP) $(KERNEL_CONFIG)
	$(NOTEBOOK_ENV) $(BIN)/python -m pytest tests solutions -n $(JOBS) --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider --durations=25 --junitxml=build/test-report.xml; \
	status=$$?; $(BIN)/python tools/tier_times.py build/test-report.xml || true; exit $$status

# The quick one, for the edit loop: unit and oracle tests, without the system tier (nbgrader round trips, nbval,
# the browser, Dask, pip; see SYSTEM_MODULES in tests/conftest.py). Not the test command: `make test` is.
check: $(STAMP) $(KERNEL_CONFIG)
	$(NOTEBOOK_ENV) $(BIN)/python -m pytest tests -m "not system" -n $(JOBS) -p no:cacheprovider --durations=10

build: $(STAMP) $(KERNEL_CONFIG)
	$(NOTEBOOK_ENV) $(BIN)/cnncourse build

# The student edition (dist/student/): the package without answers or hidden checks, and the release notebooks.
# REVEAL=c1_convolution,... keeps those chapters' answers.
student: $(STAMP)
	$(BIN)/cnncourse student $(if $(REVEAL),--reveal $(REVEAL))

grade: $(STAMP) $(KERNEL_CONFIG)
	@test -n "$(FOLDER)" || (echo "usage: make grade FOLDER=path/to/submitted" && exit 2)
	$(NOTEBOOK_ENV) $(BIN)/cnncourse grade $(FOLDER)

bench: $(STAMP) $(KERNEL_CONFIG)
	$(BIN)/cnncourse bench conv

doctor: $(STAMP)
	$(BIN)/cnncourse doctor

# The instructor's JupyterLab: started in autograder/ so nbgrader's formgrader finds the course. Unlike `make lab`
# (cnncourse lab, self-study), it keeps nbgrader's formgrader, create-assignment and assignment list.
formgrader: $(STAMP) $(KERNEL_CONFIG)
	cd autograder && $(abspath $(BIN))/jupyter lab

clean:
	rm -rf $(VENV)
