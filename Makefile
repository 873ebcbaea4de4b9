# Kiln - top-level makefile.
#
#   make            build every app for $(ARCH) (build/<arch>/<app>.elf)
#   make run        boot an app under QEMU (APP=webserver|hello|..., RUNNER=qemu)
#   make test       install what is missing, then run the whole suite
#   make debug      boot under QEMU's gdb stub and attach gdb with symbols
#   make deps       install the Debian packages Kiln needs
#
# Variables: ARCH (x86_64), APP, MACHINE (microvm|q35), ACCEL (kvm|tcg),
# BUILD (output directory), V=1 for full commands.

ARCH    ?= x86_64
BUILD   ?= build
APP     ?= webserver
MACHINE ?= microvm

ifeq ($(V),1)
Q :=
else
Q := @
endif

.DEFAULT_GOAL := all

include mk/toolchain.mk
include mk/parts.mk
include mk/assets.mk
include mk/tls.mk
include mk/kernel.mk
include mk/hosted.mk
include mk/sim.mk
include mk/perf.mk
include mk/fuzz.mk
include mk/deps.mk
include mk/run.mk

# Every folder under apps/ with an app.mk is an app; tests/guest is the
# in-guest self-test image.
APPS := $(patsubst apps/%/app.mk,%,$(wildcard apps/*/app.mk))
$(foreach a,$(APPS),$(eval $(call kiln_app,$(a),apps/$(a))))
$(eval $(call kiln_app,selftest,tests/guest))
include mk/native.mk
include mk/hostile.mk

all: $(foreach a,$(APPS),$(KBUILD)/$(a).elf)

test: deps all $(KBUILD)/selftest.elf hosted-tests $(HBUILD)/udpecho-tap fuzz-build tls-build
	$(Q)BUILD=$(BUILD) ARCH=$(ARCH) tests/run.sh

clean:
	rm -rf $(BUILD)

.PHONY: all test clean

include mk/bench.mk
