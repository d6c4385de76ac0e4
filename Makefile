# Quick start targets. `make test` is what CI runs (.ci/run).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup test clean-venv check-gpu

# CPU or CUDA by what nvidia-smi sees (CANKD_DEVICE=cpu|cuda forces it); README, "GPU install".
setup:
	bash tools/setup_env.sh

# mmcv's CUDA ops, CanLoss on CUDA and NCCL against CPU (the set-up's last step on a GPU machine).
check-gpu: setup
	$(PY) tools/analysis/check_gpu.py

# The tests run on the real photos, mosaics and MobileNetV2 weights of `data`.
test: setup data
	$(PY) -m pytest

clean-venv:
	rm -rf $(VENV)

.PHONY: data demo demo-seg demo-cls reproduce reproduce-seg

data: setup
	$(PY) tools/data/fetch_real_photos.py
	$(PY) tools/data/make_fashion_mosaics.py
	$(PY) tools/data/make_fashion_imagenet.py
	$(PY) tools/data/fetch_mobilenet_v2.py

demo: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) tools/demo/detection_demo.py

demo-seg: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) tools/demo/segmentation_demo.py

demo-cls: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) tools/demo/classification_demo.py

# The CPU-sized reproductions (docs/benchmarks.md, where they write their
# tables and plots): detection, then segmentation on held-out canvases.
reproduce: setup data
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) tools/demo/reproduce_detection.py

reproduce-seg: setup data
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) tools/demo/reproduce_segmentation.py
