# Deterministic simulation tests: every tests/sim/test_sim_<name>.c is a
# cmocka program linked against the hosted archive, built with the unit
# tests into $(HBUILD)/tests/ so tests/run.sh runs it with them.

SIM_TESTS := $(patsubst tests/sim/%.c,$(HBUILD)/tests/%,$(wildcard tests/sim/test_sim_*.c))

$(HBUILD)/tests/test_sim_%: tests/sim/test_sim_%.c $(HBUILD)/libkiln.a
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(HCFLAGS) -Itests/sim -MMD -MP $< -o $@ $(HBUILD)/libkiln.a $(HLDFLAGS) -lcmocka -lbearssl

hosted-tests: $(SIM_TESTS)

-include $(SIM_TESTS:=.d)
