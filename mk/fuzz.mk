# libFuzzer targets: every tests/fuzz/fuzz_<name>.c is one target.
#
#   make fuzz-build                 build $(BUILD)/fuzz/fuzz_<name> for each
#   make fuzz-smoke                 run each for FUZZ_SMOKE_SECONDS (10)
#   make fuzz [FUZZ_TARGETS=a b]    run each for FUZZ_SECONDS (300), or for
#                                   FUZZ_SECONDS_<name> when set: tcp has
#                                   4 x FUZZ_SECONDS (its state space is
#                                   the deepest; seeds come from
#                                   tests/fuzz/gen_tcp_corpus.py)
#
# libFuzzer's runtime is clang's, and gcc's ASan objects cannot be linked
# with it, so the portable sources (HOSTED_SRCS, as in the hosted build)
# are compiled again with clang, instrumented for coverage, ASan and UBSan,
# into $(FBUILD)/libkiln.a. A target is linked against that archive, so it
# pulls in only the objects it uses. Corpora grow in
# $(FBUILD)/corpus/<name>; seeds in tests/fuzz/corpus/<name>/ (if any) are
# read as well but never written. Crashes land in $(FBUILD)/artifacts/.

FUZZ_CC ?= clang
FBUILD := $(BUILD)/fuzz
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SECONDS ?= 300
# per-target run lengths for `make fuzz` (shell arithmetic, so that
# FUZZ_SECONDS=60 on the command line scales them too)
FUZZ_SECONDS_tcp ?= $$(( $(FUZZ_SECONDS) * 4 ))
fuzz_secs = $(or $(FUZZ_SECONDS_$(1)),$(FUZZ_SECONDS))

FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := $(filter-out $(SANITIZE),$(HCFLAGS)) $(FUZZ_SANITIZE) \
               -DKILN_FUZZ=1

FUZZ_OBJS := $(addprefix $(FBUILD)/obj/,$(HOSTED_SRCS:.c=.o))
FUZZ_ALL := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS := $(addprefix $(FBUILD)/fuzz_,$(FUZZ_ALL))

$(FBUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FBUILD)/libkiln.a: $(FUZZ_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FBUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FBUILD)/libkiln.a
	@mkdir -p $(dir $@)
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP $< -o $@ \
		$(FBUILD)/libkiln.a -lbearssl

fuzz-build: deps $(FUZZ_BINS)

fuzz-smoke: fuzz-build
	$(Q)tests/fuzz/run.sh $(FBUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz: fuzz-build
	$(Q)rc=0; $(foreach t,$(FUZZ_TARGETS),tests/fuzz/run.sh $(FBUILD) $(call fuzz_secs,$(t)) $(t) || rc=1;) \
		exit $$rc

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)

.PHONY: fuzz-build fuzz-smoke fuzz
