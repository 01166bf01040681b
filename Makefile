# spectral_align: two commands for users (`make demo`, `make test`), a few for contributors.
# The virtual environment lives outside the clone by default so that CI and new clones reuse the
# 5 GB torch install; override with `make test VENV=/path/to/venv`.
SHELL := /bin/bash
VENV ?= $(HOME)/.cache/spectral_align/venv
PYTHON ?= python3
BIN := $(VENV)/bin
TORCH_PAIR := torch==2.14.1 torchvision==0.29.1
# pinned on purpose, without its dependencies (see pyproject.toml): its own metadata pins an old `requests`
TORCHATTACKS := torchattacks==3.5.1
# The stamp changes whenever the dependencies or this clone's location change, so `make` reinstalls
# exactly when it must and is a no-op otherwise.
STAMP := $(VENV)/.spectral_align-$(shell cat pyproject.toml Makefile | sha1sum | cut -c1-12)-$(shell echo $(CURDIR) | sha1sum | cut -c1-8)

.PHONY: setup demo test export outputs clean-nbs check bench gpu-check help

help:
	@echo "make demo [DATA=dir] [DEMO_OUT=dir] - set up the environment and run the demo experiment on an image folder"
	@echo "              (DATA with train/ and val/ of class sub-folders, e.g. Imagenette: DEMO_FOLDER_TIME) or on CIFAR-10"
	@echo "              (DATA, else \$$SPECTRAL_ALIGN_DATA, else the cache or a download: about 5-6 minutes; offline: the"
	@echo "              built-in synthetic data); times on 2 CPU cores"
	@echo "make test   - set up the environment and run the whole test suite"
	@echo "make export - export notebooks to the library (nbdev-export) and clean them (nbdev-clean)"
	@echo "make outputs [NB=nbs/x.ipynb] - run the notebooks and save their outputs for the docs pages (see CONTRIBUTING.md)"
	@echo "make bench  - run the benchmarks in benchmarks/ (all but gpu.py)"
	@echo "make gpu-check [DATA=dir] [DRY=1] - on one NVIDIA GPU, train every arm, run every measure and check the"
	@echo "              speed goals in under 5 minutes (DATA: folder of train_jpeg.npz/test_jpeg.npz, default synthetic"
	@echo "              images; DRY=1: the same steps on the CPU with tiny sizes, speed goals not judged)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python
	@$(BIN)/python -c "import torch, torchvision" 2>/dev/null || $(BIN)/python -m pip install -q $(TORCH_PAIR)
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps $(TORCHATTACKS)
	rm -f $(VENV)/.spectral_align-*
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/spectral-align demo --resume $(if $(DATA),--data-path $(DATA)) $(if $(DEMO_OUT),--out $(DEMO_OUT))

test: setup
	OMP_NUM_THREADS=1 MPLBACKEND=Agg $(BIN)/python -m pytest -n $(shell nproc) --dist load -p no:cacheprovider tests

export: setup
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean

outputs: setup
	OMP_NUM_THREADS=1 MPLBACKEND=Agg $(BIN)/python tests/render_notebooks.py $(NB)
	$(BIN)/nbdev-clean

bench: setup
	for f in $(filter-out benchmarks/gpu.py benchmarks/_%,$(wildcard benchmarks/*.py)); do $(BIN)/python $$f || exit 1; done

gpu-check: setup
	$(BIN)/python benchmarks/gpu.py $(if $(filter 1,$(DRY)),--dry) $(if $(DATA),--data-path $(DATA))
