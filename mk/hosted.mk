# The hosted build: portable Kiln sources compiled as Linux code with
# ASan/UBSan into one archive; every tests/unit/test_*.c is a cmocka
# program linked against it. Other hosted programs (the tap runner,
# simulation, fuzz targets) link the same archive.

HOSTED_SRCS := $(sort $(foreach p,$(filter PORTABLE_%,$(.VARIABLES)),$($(p))) \
               $(wildcard platform/hosted/*.c))
HOSTED_OBJS := $(addprefix $(HBUILD)/obj/,$(HOSTED_SRCS:.c=.o))

$(HBUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(HCFLAGS) -MMD -MP -c $< -o $@

$(HBUILD)/libkiln.a: $(HOSTED_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

UNIT_TESTS := $(patsubst tests/unit/%.c,$(HBUILD)/tests/%,$(wildcard tests/unit/test_*.c))

$(HBUILD)/tests/%: tests/unit/%.c $(HBUILD)/libkiln.a
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(HCFLAGS) -MMD -MP $< -o $@ $(HBUILD)/libkiln.a $(HLDFLAGS) -lcmocka -lbearssl

hosted-tests: $(UNIT_TESTS)

-include $(HOSTED_OBJS:.o=.d) $(UNIT_TESTS:=.d)

.PHONY: hosted-tests
