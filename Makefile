# `make demo` and `make test` work on a fresh machine: they create .venv from the pinned
# requirements and fetch Fashion-MNIST (Debian's dataset-fashion-mnist) when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA := data/FashionMNIST/raw/t10k-labels-idx1-ubyte
DEMO_CLASSIFIER := runs/classifiers/fmnist_vgg_small/classifier.safetensors

.PHONY: all setup data test demo clean

all: test

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(STAMP)

$(DATA):
	bash scripts/get_fashion_mnist.sh data

data: $(DATA)

test: $(STAMP) $(DATA)
	@HF_HUB_OFFLINE=1 $(PY) -m pytest -q tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$rc

$(DEMO_CLASSIFIER): $(STAMP) $(DATA)
	$(PY) -m classifiers.train --config configs/classifiers/fmnist_vgg_small.yaml

demo: $(STAMP) $(DATA) $(DEMO_CLASSIFIER)
	rm -rf runs/demo
	$(PY) train.py --config configs/demo.yaml
	@echo
	@echo "demo grid (each original followed by two reconstructions from its logits): $$(ls runs/demo/samples/*.png | tail -n 1)"
	@echo "all grids: runs/demo/samples/   snapshot: runs/demo/snapshot.safetensors   logs: tensorboard --logdir runs/demo/tb"

clean:
	rm -rf runs/demo
