# Two commands set up everything on a fresh Debian machine with Python 3.11:
#   make demo   - create .venv, install riskkit, run the main job on the sample district
#   make test   - the same set-up if needed, then the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DISTRICT ?= data/sample-district
# Debian packages: Chromium's headless shell (static figures, PDF export, browser tests: no browser UI, so a batch
# worker's browser is ~200 MB lighter), Chromium (the capture app's browser benchmarks) and the fonts reports use.
APT_PACKAGES := chromium-headless-shell chromium fonts-dejavu-core

.PHONY: demo test system-deps clean

demo: $(STAMP)
	$(BIN)/riskkit validate $(DISTRICT)
	$(BIN)/riskkit batch $(DISTRICT)

test: $(STAMP)
	$(BIN)/python -m pytest

$(STAMP): pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	touch $@

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

clean:
	rm -rf $(VENV) reports/*/ .pytest_cache
