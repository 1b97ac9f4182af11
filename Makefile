# Build the BPF objects and test workloads; run, test and benchmark syscount.
# ./bootstrap installs the system packages first; these targets assume they are there.

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' src/syscount/__init__.py)
WHEEL := dist/syscount-$(VERSION)-py3-none-any.whl

BPF_DIR := src/syscount/bpf

WORKLOAD_DIR := tests/workloads
WORKLOADS := $(WORKLOAD_DIR)/build/workload $(WORKLOAD_DIR)/build/workload32
WORKLOADS += $(WORKLOAD_DIR)/build/flood

.PHONY: all bpf venv workloads run test lint unit privileged bench bench-trace bench-exporter wheel check-wheel bench-top clean

# Byte-compile explicitly: start-up time matters, and PYTHONDONTWRITEBYTECODE may be set.
all: bpf venv
	$(VPY) -m compileall -q src

# Objects for every supported machine, in $(BPF_DIR)/<machine>/ (what the wheel carries too);
# the tool rebuilds only what is older than its source or a header.
bpf:
	$(PYTHON) tools/build_bpf.py $(BPF_DIR)

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
	$(VENV)/bin/ruff check src tests bench tools setup.py
	$(VENV)/bin/ruff format --check src tests bench tools setup.py
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

bench-top: all workloads
	$(VPY) bench/top.py

# The sdist, then the wheel built from it (so the sdist is known to be complete).
wheel: venv
	rm -rf dist
	$(VPY) -m build --outdir dist .
	test -f $(WHEEL)

# Install the wheel into a fresh Debian 12 root without a compiler and run it (slow: debootstrap).
check-wheel: wheel
	tools/check_wheel.sh $(WHEEL)

clean:
	rm -f $(BPF_DIR)/*.bpf.o $(BPF_DIR)/*/*.bpf.o
	rm -rf $(WORKLOAD_DIR)/build build dist
