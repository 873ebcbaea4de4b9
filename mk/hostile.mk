# The hostile-client suite's prober (tests/hostile/prober.c): a plain
# Linux program that speaks raw Ethernet on a TAP device (AF_PACKET).
#
#   make hostile-build     $(BUILD)/hostile/prober
#
# `make test` builds it; tests/run.sh runs tests/hostile/run.sh.

$(BUILD)/hostile/prober: tests/hostile/prober.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -Werror -o $@ $<

hostile-build: $(BUILD)/hostile/prober

test: hostile-build

.PHONY: hostile-build
