# Top-level driver: CMake does the build. `make`, `make test`, `make demo`
# install what they need first (scripts/setup-deps), idempotently.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
ASAN_PY_BUILD ?= build-asan-py
FUZZ_BUILD ?= build-fuzz
VENV ?= .venv
PY := $(VENV)/bin/python
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build python build-asan-py test test-c test-asan test-python demo bench fuzz clean

all: build python

deps:
	@scripts/setup-deps

$(BUILD)/build.ninja: CMakeLists.txt | deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) --quiet

# The Python extension is built by scikit-build-core from the same sources
# (incremental: its build dir is kept in build/python).
python: deps
	@$(VENV)/bin/pip install -q --no-build-isolation --no-deps . > $(BUILD)-python.log 2>&1 || (cat $(BUILD)-python.log >&2; exit 1)
	@$(PY) -c 'import hoist' || (echo "python: import hoist failed" >&2; exit 1)

$(ASAN_BUILD)/build.ninja: CMakeLists.txt | deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHOIST_SANITIZE=ON -DHOIST_CLI=ON >/dev/null

build-asan: deps $(ASAN_BUILD)/build.ninja
	@ninja -C $(ASAN_BUILD) --quiet

# The Python extension under ASan+UBSan, importable from $(ASAN_PY_BUILD)/pkg
# (scripts/run-tests runs pytest on it with the ASan runtime preloaded).
$(ASAN_PY_BUILD)/build.ninja: CMakeLists.txt | deps
	@cmake -S . -B $(ASAN_PY_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHOIST_SANITIZE=ON -DHOIST_PYTHON=ON \
		-DHOIST_TESTS=OFF -DHOIST_CLI=OFF -DPython_EXECUTABLE=$(CURDIR)/$(PY) >/dev/null

build-asan-py: deps $(ASAN_PY_BUILD)/build.ninja
	@ninja -C $(ASAN_PY_BUILD) --quiet _hoist
	@mkdir -p $(ASAN_PY_BUILD)/pkg/hoist
	@cp python/hoist/*.py python/hoist/py.typed $(ASAN_PY_BUILD)/_hoist*.so $(ASAN_PY_BUILD)/pkg/hoist/

# Every test: C (normal and ASan+UBSan) and Python, against a local S3 server
# that this target starts and always stops.
test: build python build-asan build-asan-py
	@scripts/run-tests

demo: build python
	@scripts/demo

bench: build python
	@scripts/setup-deps --bench
	@scripts/run-bench

$(FUZZ_BUILD)/build.ninja: CMakeLists.txt | deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHOIST_FUZZ=ON -DHOIST_TESTS=OFF -DHOIST_CLI=OFF >/dev/null

fuzz: deps $(FUZZ_BUILD)/build.ninja
	@ninja -C $(FUZZ_BUILD) --quiet
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz $(FUZZ_BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(ASAN_PY_BUILD) $(FUZZ_BUILD) _skbuild dist *.egg-info
