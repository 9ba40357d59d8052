# xdecimate: the README's two commands are `make report` and `make test`.
# Each bootstraps what is missing (apt packages, .venv, pip install -e '.[dev]') and then runs.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.bootstrap-stamp
JOBS  ?= 2

.PHONY: all test report soak bench lint bootstrap clean train net-full dse
all: test

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh
	touch $@

bootstrap: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n $(JOBS)

report: $(STAMP)
	$(VENV)/bin/xdecimate report --out build/report

# Trains the Fashion-MNIST models (dense, then SR-STE per N:M pattern) and rewrites
# sw/train/trained/ and its manifest (~50 min measured on 2 shared cores). `make report` never trains.
train: $(STAMP)
	$(PY) -m xdecimate.sw.train.train

soak: $(STAMP)
	$(PY) -m pytest -q -m soak tests

bench: $(STAMP)
	$(VENV)/bin/xdecimate bench --iss

# The full-size networks through the L2 flow (ISS; ~1.5 h on one core): the report quotes
# build/net-full/*/net.json.  ResNet18: every configuration; ViT-S: one encoder block per
# configuration counted 12 times, and the whole network end to end at 1:16 to back it;
# ResNet18 at 1:16 once more on the CV32E40P RTL (cycle-equal with the ISS on every layer).
net-full: $(STAMP)
	$(VENV)/bin/xdecimate net --network resnet18 --single-buffer --out build/net-full/resnet18
	$(VENV)/bin/xdecimate net --network vit --derive-blocks --single-buffer --out build/net-full/vit
	$(VENV)/bin/xdecimate net --network vit --patterns 1:16 --skip-dense --out build/net-full/vit-e2e
	$(VENV)/bin/xdecimate net --network resnet18 --patterns 1:16 --skip-dense --target cv32e40p \
	    --out build/net-full/resnet18-rtl


# Approximate kernels: per-layer cycle tables on the ISS, the DSE over the six trained models of
# each architecture, the Pareto front on all 10,000 test images, the picks on the ISS and the
# RTL (the report's DSE section runs the same; build/ caches the ISS runs).
dse: $(STAMP)
	$(VENV)/bin/xdecimate dse --out build/dse

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check . || true

clean:
	rm -rf build sim_build .pytest_cache
