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

# ---- the hosted runtime and the tap-hosted runner ----------------------
# platform/hosted/runtime/ (timer, loop, tasks on Linux) is its own
# archive, so unit tests that bring their own doubles keep linking
# libkiln.a alone. Tests named tests/unit/test_rt_*.c link it as well.
# Every app whose app.mk sets <app>_HOSTED := 1 (apps/*, and the runner's
# own test apps in tests/hosted/*) gets $(HBUILD)/<app>-tap: the app's
# sources, the TAP device and runner (platform/hosted/tap/), both
# archives, ASan and UBSan. `make hosted-apps` builds them all;
# `make tap-tests` builds udpecho-tap and runs tests/hosted/run.sh (root and
# /dev/net/tun needed, else the scripts report themselves skipped).

HOSTED_RT_SRCS := $(wildcard platform/hosted/runtime/*.c)
HOSTED_RT_OBJS := $(addprefix $(HBUILD)/obj/,$(HOSTED_RT_SRCS:.c=.o))
TAP_SRCS := $(wildcard platform/hosted/tap/*.c)
TAP_OBJS := $(addprefix $(HBUILD)/obj/,$(TAP_SRCS:.c=.o))
TAP_LDS := platform/hosted/tap/sections.ld
HOSTED_RT_LIBS := -Wl,--start-group $(HBUILD)/libkiln.a $(HBUILD)/libkiln_rt.a -Wl,--end-group

$(HBUILD)/libkiln_rt.a: $(HOSTED_RT_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(HBUILD)/tests/test_rt_%: tests/unit/test_rt_%.c $(HBUILD)/libkiln.a $(HBUILD)/libkiln_rt.a $(TAP_LDS)
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(HCFLAGS) -MMD -MP $< -o $@ -Wl,-T,$(TAP_LDS) $(HOSTED_RT_LIBS) \
		$(HLDFLAGS) -lcmocka -lbearssl

# $(1) = app name, $(2) = its directory
define kiln_hosted_app
$(1)_HOBJS := $$(addprefix $(HBUILD)/obj/$(2)/,$$(patsubst %.c,%.o,$$(sort $$($(1)_SRCS))))
# The baked site (mk/assets.mk makes the rule for it) when the app has one.
$(1)_HASSETS := $$(if $$($(1)_ASSETS)$$($(1)_ASSETS_TREES),$(HBUILD)/assets/$(1).o)
# The baked certificates (mk/tls.mk) when the app has the part tls.
$(1)_HASSETS += $$(if $$(filter tls,$$(call parts_closure,$$($(1)_PARTS))),$(TLS_CERTS_HOBJ))
$(HBUILD)/$(1)-tap: $$($(1)_HOBJS) $$($(1)_HASSETS) $(TAP_OBJS) $(HBUILD)/libkiln.a $(HBUILD)/libkiln_rt.a $(TAP_LDS)
	@echo "  HOSTLD  $$@"
	$(Q)$(CC) $(HCFLAGS) -o $$@ $$($(1)_HOBJS) $$($(1)_HASSETS) $(TAP_OBJS) -Wl,-T,$(TAP_LDS) \
		$(HOSTED_RT_LIBS) $(HLDFLAGS) -lbearssl
HOSTED_APPS += $(HBUILD)/$(1)-tap
-include $$($(1)_HOBJS:.o=.d)
endef

HOSTED_APPS :=
HOSTED_APP_MKS := $(wildcard apps/*/app.mk tests/hosted/*/app.mk)
$(foreach m,$(HOSTED_APP_MKS),$(eval include $(m)))
$(foreach m,$(HOSTED_APP_MKS),$(if $(filter 1,$($(notdir $(patsubst %/,%,$(dir $(m))))_HOSTED)),\
	$(eval $(call kiln_hosted_app,$(notdir $(patsubst %/,%,$(dir $(m)))),$(patsubst %/,%,$(dir $(m)))))))

hosted-apps: $(HOSTED_APPS)

tap-tests: $(HBUILD)/udpecho-tap
	$(Q)BUILD=$(BUILD) tests/hosted/run.sh

-include $(HOSTED_RT_OBJS:.o=.d) $(TAP_OBJS:.o=.d)

.PHONY: hosted-apps tap-tests
