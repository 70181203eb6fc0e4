# `make run` and `make test` set everything up from nothing on first use.
# Rasa 3.6 needs Python 3.10: found on PATH as python3.10, else under pyenv.
SHELL := /bin/bash
# A pyenv shim may exist on PATH and still refuse to run, so each candidate is tried.
PYTHON_310 ?= $(shell for candidate in $$(command -v python3.10) $$(ls -d $$(pyenv root 2>/dev/null || echo ~/.pyenv)/versions/3.10.*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10 2>/dev/null | sort -rV); do \
	"$$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo "$$candidate"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 3

PACK ?= knowledge/osona
TRAINING_INPUTS := config.yml domain.yml bot/embeddings.py $(shell find nlu_data bot/nlu bot/language -name '*.yml' -o -name '*.py' -o -name '*.txt' 2>/dev/null)
PACK_FILES := $(shell find $(PACK) -name '*.yml' 2>/dev/null)
MODEL := models/acollida.tar.gz

.PHONY: run test install validate eval bench clean debian-packages

run: $(MODEL) var/.imported
	$(VENV)/bin/acollida run --model $(MODEL)

test: $(INSTALLED) validate $(MODEL) debian-packages
	ACOLLIDA_TEST_MODEL=$(MODEL) $(PY) -m pytest -p no:cacheprovider

install: $(INSTALLED)

$(INSTALLED): requirements.lock pyproject.toml
	@test -n "$(PYTHON_310)" || { echo "Python 3.10 not found: install it (e.g. pyenv install 3.10) or set PYTHON_310=/path/to/python3.10"; exit 1; }
	test -x $(PY) || $(PYTHON_310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.3.1"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

var/.imported: $(INSTALLED) $(PACK_FILES)
	$(VENV)/bin/acollida kb import $(PACK)
	@mkdir -p var && touch $@

# Debian packages the tests need: nginx (tests/topology and tests/test_deploy.py put it in front of the
# replicas; only the binary is used, so the service the package starts is stopped) and chromium (the
# console's browser tests, driven by Playwright; never `playwright install`).
debian-packages:
	@test -x /usr/sbin/nginx || { apt-get update -qq && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; } \
		&& { service nginx stop >/dev/null 2>&1 || true; }; }
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

validate: $(INSTALLED)
	$(RASA) data validate --fail-on-warnings --config config.yml --domain domain.yml --data nlu_data

$(MODEL): $(INSTALLED) $(TRAINING_INPUTS)
	$(RASA) train --config config.yml --domain domain.yml --data nlu_data --out models --fixed-model-name acollida

eval: $(MODEL) var/.imported
	$(VENV)/bin/acollida eval tests/eval/cases.jsonl tests/eval/paraphrases.jsonl tests/eval/romanized.jsonl

bench: $(INSTALLED) $(MODEL)
	$(VENV)/bin/acollida language bench ../shared/langid-testdata
	$(VENV)/bin/acollida parse-bench --model $(MODEL)

clean:
	rm -rf $(VENV) models var .rasa
