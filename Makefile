# Build the BPF objects and test workloads; run, test and benchmark syscount.
# ./bootstrap installs the system packages first; these targets assume they are there.

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -I/usr/include/$(MULTIARCH)

BPF_DIR := src/syscount/bpf
BPF_SRC := $(wildcard $(BPF_DIR)/*.bpf.c)
BPF_OBJ := $(BPF_SRC:.bpf.c=.bpf.o)

WORKLOAD_DIR := tests/workloads
WORKLOADS := $(WORKLOAD_DIR)/build/workload $(WORKLOAD_DIR)/build/workload32
WORKLOADS += $(WORKLOAD_DIR)/build/flood

.PHONY: all bpf venv workloads run test lint unit privileged bench bench-trace bench-exporter clean

# Byte-compile explicitly: start-up time matters, and PYTHONDONTWRITEBYTECODE may be set.
all: bpf venv
	$(VPY) -m compileall -q src

bpf: $(BPF_OBJ)

$(BPF_DIR)/%.bpf.o: $(BPF_DIR)/%.bpf.c $(wildcard $(BPF_DIR)/*.h)
	clang $(BPF_CFLAGS) -c $< -o $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

workloads: $(WORKLOADS)

$(WORKLOAD_DIR)/build/workload: $(WORKLOAD_DIR)/workload.c
	mkdir -p $(dir $@)
	gcc -O2 -Wall -Werror -static -pthread -o $@ $<

# The same workload as a 32-bit (ia32) program: its calls enter with i386 numbers.
$(WORKLOAD_DIR)/build/workload32: $(WORKLOAD_DIR)/workload.c
	mkdir -p $(dir $@)
	gcc -m32 -O2 -Wall -Werror -static -pthread -o $@ $<

# syscount trace's getppid flood (steady rate or flat out), for loss and throughput.
$(WORKLOAD_DIR)/build/flood: $(WORKLOAD_DIR)/flood.c
	mkdir -p $(dir $@)
	gcc -O2 -Wall -Werror -static -pthread -o $@ $<

# Ctrl-C is how a run ends: its status (130) is not a failure of make's.
run: all
	$(VENV)/bin/syscount || [ $$? -eq 130 ]

lint: venv
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/ruff format --check src tests bench tools
	$(VENV)/bin/mypy

unit: all
	$(VPY) -m pytest -q tests/unit

privileged: all workloads
	$(VPY) -m pytest -q -rs tests/privileged

# The README's test command: lint, then every test; privileged ones need root.
test: all workloads lint
	$(VPY) -m pytest -q -rs tests

bench: all workloads
	$(VPY) bench/overhead.py

bench-trace: all workloads
	$(VPY) bench/trace.py

bench-exporter: all workloads
	$(VPY) bench/exporter.py

clean:
	rm -f $(BPF_OBJ)
	rm -rf $(WORKLOAD_DIR)/build
