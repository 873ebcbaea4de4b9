# Instruction-count benchmarks of the portable code under callgrind.
#
#   make perf     build $(BUILD)/perf/tcp_rx_bench and print the
#                 instructions the network stack spends per received
#                 in-order TCP data segment, with software and offloaded
#                 receive checksums, and what recording transmitted frames
#                 in the fake device adds
#
# Unlike the hosted build (mk/hosted.mk) these programs are built without
# sanitizers, at -O2 as the kernel is, from their own objects in
# $(PBUILD)/obj/ (an archive, so a program pulls in only what it uses).
# Each configuration runs under valgrind --tool=callgrind for two segment
# counts, PERF_N1 and PERF_N2; tests/perf/callgrind-delta.sh divides the
# difference of the instruction counts (whole program, and per function)
# by the difference of the counts, so start-up and set-up cancel out.
# Outputs (callgrind.out.*, annotations) stay in $(PBUILD)/.

PBUILD := $(BUILD)/perf
PERF_N1 ?= 1000
PERF_N2 ?= 5000
PERF_TOP ?= 15

PERF_CFLAGS := $(filter-out $(SANITIZE) -O0 -O1 -O2 -O3,$(HCFLAGS)) -O2
PERF_SRCS := $(PORTABLE_net) $(wildcard runtime/timer_wheel.c kernel/err.c libc/fmt.c \
             kernel/cmdline.c) platform/hosted/platform.c
PERF_OBJS := $(addprefix $(PBUILD)/obj/,$(PERF_SRCS:.c=.o))

$(PBUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  PERFCC  $<"
	$(Q)$(CC) $(PERF_CFLAGS) -MMD -MP -c $< -o $@

$(PBUILD)/libkiln.a: $(PERF_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(PBUILD)/tcp_rx_bench: tests/perf/tcp_rx_bench.c $(PBUILD)/libkiln.a
	@mkdir -p $(dir $@)
	@echo "  PERFLD  $@"
	$(Q)$(CC) $(PERF_CFLAGS) -Itests/unit -MMD -MP $< -o $@ $(PBUILD)/libkiln.a

perf-build: $(PBUILD)/tcp_rx_bench

perf: perf-build
	$(Q)for cfg in "sw record" "sw sink" "offload record" "offload sink"; do \
		set -- $$cfg; \
		tests/perf/callgrind-delta.sh $(PBUILD)/tcp_rx_bench $(PBUILD) \
			$(PERF_N1) $(PERF_N2) $(PERF_TOP) $$1 $$2 || exit 1; \
	done

-include $(PERF_OBJS:.o=.d) $(PBUILD)/tcp_rx_bench.d

.PHONY: perf perf-build
