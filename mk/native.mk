# The native variant (SPEC 1, "native"): an app's own sources, the
# portable parts of Kiln it uses (HTTP, the assets lookup and its baked
# table, BearSSL) and platform/native/ (Linux sockets on an epoll loop,
# one process per core) linked into one Linux program, with no
# sanitizers and -O2: it is the baseline the benchmarks compare with.
#
#   make native                   $(NBUILD)/<app> for every app whose app.mk
#                                 sets <app>_NATIVE := 1 (and the test apps)
#   make native-tests             builds them and runs tests/native/run.sh
#
# The network stack is not linked: Linux's takes its place through
# kiln/tcp.h and kiln/net.h (platform/native/tcp.c, net.c). The hosted
# runtime's timer wheel and tasks (platform/hosted/runtime/timer.c and
# task.c) are compiled in; its poll(2) loop is replaced by
# platform/native/loop.c. Test apps live in tests/native/<name>/ with an
# app.mk of their own. Every native program also gets an ASan/UBSan build,
# $(NBUILD)/asan/<app>, which the tests run as well.
#
# This file is included after the kiln_app rules (it needs each app's
# _PARTS and _HOSTED_ASSETS_OBJ).

NBUILD := $(BUILD)/native

NATIVE_CFLAGS := -std=gnu11 -g -fno-omit-frame-pointer -ffunction-sections -fdata-sections \
                 -DKILN_NATIVE=1 $(WARN) $(COMMON_INC) -Iplatform/hosted/include \
                 -Iarch/$(ARCH)/include \
                 -isystem $(BEARSSL_INC)
NATIVE_OPT := -O2
# The product is linked statically, so it runs anywhere as one file (the
# benchmark copies it into a busybox initramfs); NATIVE_STATIC= to not.
NATIVE_STATIC ?= -static
NATIVE_LDFLAGS := -Wl,--gc-sections -Wl,-T,platform/hosted/tap/sections.ld
NATIVE_LIBS := -lbearssl

# Parts Linux replaces natively (their portable sources are not linked).
NATIVE_REPLACED := core net pci virtio virtio_rng virtio_net
# core's portable subset, without the page and object allocators
# (kmalloc is malloc natively).
NATIVE_CORE_SRCS := $(filter-out kernel/page.c kernel/obj.c,$(PORTABLE_core))
NATIVE_PLATFORM_SRCS := $(wildcard platform/native/*.c) \
                        platform/hosted/runtime/timer.c platform/hosted/runtime/task.c

$(NBUILD)/tls/tls_certs.o: $(TLS_BUILD)/tls_certs.c
	@mkdir -p $(dir $@)
	@echo "  NATCC   $<"
	$(Q)$(CC) $(NATIVE_CFLAGS) -c $< -o $@

$(NBUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  NATCC   $<"
	$(Q)$(CC) $(NATIVE_CFLAGS) $(NATIVE_OPT) -MMD -MP -c $< -o $@

$(NBUILD)/asan-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  NATCC   $< (asan)"
	$(Q)$(CC) $(NATIVE_CFLAGS) -O1 $(SANITIZE) -MMD -MP -c $< -o $@

# $(1) = app name, $(2) = its directory
define kiln_native_app
$(1)_NSRCS := $$(sort $(NATIVE_CORE_SRCS) $(NATIVE_PLATFORM_SRCS) \
	$$(foreach p,$$(filter-out $(NATIVE_REPLACED),$$(call parts_closure,$$($(1)_PARTS))),$$(PORTABLE_$$(p))) \
	$$(addprefix $(2)/,$$($(1)_SRCS)))
$(1)_NOBJS := $$(addprefix $(NBUILD)/obj/,$$($(1)_NSRCS:.c=.o))
$(1)_NAOBJS := $$(addprefix $(NBUILD)/asan-obj/,$$($(1)_NSRCS:.c=.o))

# The baked certificates (mk/tls.mk) when the app has the part tls.
$(1)_NCERTS := $$(if $$(filter tls,$$(call parts_closure,$$($(1)_PARTS))),$(NBUILD)/tls/tls_certs.o)

$(NBUILD)/$(1): $$($(1)_NOBJS) $$($(1)_HOSTED_ASSETS_OBJ) $$($(1)_NCERTS)
	@echo "  NATLD   $$@"
	$(Q)$(CC) $(NATIVE_STATIC) -o $$@ $$^ $(NATIVE_LDFLAGS) $(NATIVE_LIBS)

$(NBUILD)/asan/$(1): $$($(1)_NAOBJS) $$($(1)_HOSTED_ASSETS_OBJ) $$($(1)_NCERTS)
	@mkdir -p $$(dir $$@)
	@echo "  NATLD   $$@"
	$(Q)$(CC) $(SANITIZE) -o $$@ $$^ $(NATIVE_LDFLAGS) $(NATIVE_LIBS)

NATIVE_APPS += $(NBUILD)/$(1)
NATIVE_ASAN_APPS += $(NBUILD)/asan/$(1)
-include $$($(1)_NOBJS:.o=.d) $$($(1)_NAOBJS:.o=.d)
endef

NATIVE_APPS :=
NATIVE_ASAN_APPS :=
$(foreach a,$(APPS),$(if $(filter 1,$($(a)_NATIVE)),$(eval $(call kiln_native_app,$(a),apps/$(a)))))

# The runner's own test apps (tests/native/<name>/app.mk).
NATIVE_TEST_MKS := $(wildcard tests/native/*/app.mk)
$(foreach m,$(NATIVE_TEST_MKS),$(eval include $(m)))
NATIVE_TEST_APPS := $(foreach m,$(NATIVE_TEST_MKS),$(notdir $(patsubst %/,%,$(dir $(m)))))
$(foreach a,$(NATIVE_TEST_APPS),$(eval $(call kiln_native_app,$(a),tests/native/$(a))))

# The tests' client (a plain Linux program).
$(NBUILD)/native_client: tests/native/native_client.c tests/rfc864.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -o $@ $<

native: $(NATIVE_APPS) $(NATIVE_ASAN_APPS)

native-test-build: $(NATIVE_APPS) $(NATIVE_ASAN_APPS) $(NBUILD)/native_client

native-tests: native-test-build
	$(Q)BUILD=$(BUILD) tests/native/run.sh

# `make test` builds what tests/run.sh's native block runs.
test: native-test-build

.PHONY: native native-test-build native-tests
