# cshyper top-level build. `make run` and `make test` are all a user needs;
# both install what is missing first (scripts/deps.sh is quiet when nothing is).

BUILD       ?= build
CROSS       ?= aarch64-linux-gnu-
PLAT        ?= qemu-virt
ARCH        ?= aarch64
# Debian's pytest lives in the system interpreter, not in any pyenv on PATH.
PYTHON      ?= /usr/bin/python3
GIC         ?= 3

.DEFAULT_GOAL := all
.PHONY: all run test test-under-load test-ubsan bench clean deps images hv kmod unit fuzz \
	fuzz-long system-test stress soak

all: hv

include hv/hv.mk
include hv/boards.mk
include tests/unit/unit.mk
include tests/fuzz/fuzz.mk
include mvm/cli/cli.mk
include mvm/tools/tools.mk
include guests/baremetal/baremetal.mk
include guests/guests.mk
include mvm/kmod/kmod.mk

deps:
	@scripts/deps.sh

# What `make run` needs, and everything the tests need besides (the UBSan
# build and the boards' images).
RUN_TARGETS := hv cli images kmod baremetal mvm-disk

build-all: deps
	@$(MAKE) --no-print-directory $(RUN_TARGETS) $(HV_UBSAN_BIN) boards

run: deps
	@$(MAKE) --no-print-directory $(RUN_TARGETS)
	@scripts/run-qemu.sh --gic $(GIC)

system-test: build-all
	$(PYTHON) -m pytest -q tests/system

# System tests run again on the UBSan build (trap mode), where undefined
# behaviour stops a core with a report: boot and panics, the MVM and its
# devices, the hypercall fuzzers (the device models' parsers run under
# UBSan in the host fuzzers already), and a live update rolled back into
# the UBSan image (it re-enters its start path with other cores running).
UBSAN_BRIEF := tests/system/test_hv_boot.py tests/system/test_mvm.py \
	tests/system/test_hvc_fuzz.py \
	tests/system/test_hv_update.py::test_failing_image_is_rolled_back

test: build-all
	@$(MAKE) --no-print-directory unit fuzz
	$(PYTHON) -m pytest -q tests/system
	CSHYPER_HV_IMAGE=$(HV_UBSAN_BIN) $(PYTHON) -m pytest -q $(UBSAN_BRIEF)

# The whole system suite on the UBSan build.
test-ubsan: build-all
	CSHYPER_HV_IMAGE=$(HV_UBSAN_BIN) $(PYTHON) -m pytest -q tests/system

# The whole suite with one host core kept busy (tests wait for events).
test-under-load: build-all
	@scripts/with-load.sh $(MAKE) --no-print-directory test

# Long interrupt stress: ten times the operations `make test` runs (about
# 10 000 interrupt-driven I/Os on each GIC).
stress: build-all
	IRQ_STRESS_SCALE=10 $(PYTHON) -m pytest -q -s tests/system/test_irq_stress.py

# Lifecycle soak: SOAK_CYCLES (1000 unless given) cycles of config, boot,
# stop and remove of Linux and bare-metal guests, the board checked back at
# its baseline every 100 (tests/system/test_soak.py; make test runs 50).
SOAK_CYCLES ?= 1000

soak: build-all
	SOAK_CYCLES=$(SOAK_CYCLES) SOAK_CHECK_EVERY=100 $(PYTHON) -m pytest -q -s tests/system/test_soak.py

# Long fuzzing: every libFuzzer harness, then the hypercall fuzzers inside the
# system (tests/system/test_hvc_fuzz.py), each for FUZZ_SECONDS (600 unless
# given: `make fuzz-long FUZZ_SECONDS=3600`).
FUZZ_LONG_SECONDS := $(if $(filter command line environment,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),600)

fuzz-long: build-all
	@$(MAKE) --no-print-directory fuzz FUZZ_RUNS=-1 FUZZ_SECONDS=$(FUZZ_LONG_SECONDS)
	HVC_FUZZ_SECONDS=$(FUZZ_LONG_SECONDS) $(PYTHON) -m pytest -q -s tests/system/test_hvc_fuzz.py

bench: build-all
	@scripts/deps.sh bench
	@$(PYTHON) bench/run.py

clean:
	rm -rf $(BUILD)
