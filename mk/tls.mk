# TLS: the certificates baked into images, and the interoperability
# tests of the engine against real clients (tests/tls).
#
# Certificates. Every app whose parts include `tls` links
# $(KBUILD)/tls/tls_certs.o (mk/kernel.mk), compiled from
# $(BUILD)/tls/tls_certs.c, which tools/certbake writes from PEM files:
#
#   - by default, a development set made once with openssl (and remade
#     only when a file of it is missing, e.g. after make clean) in
#     $(BUILD)/tls/dev/: a development CA (ca.pem: give it to clients,
#     curl --cacert, s_client -CAfile), an ECDSA P-256 leaf (the default
#     certificate) and an RSA-2048 leaf signed by it, both for
#     $(TLS_DEV_SAN);
#   - with TLS_CERT and TLS_KEY (space-separated lists of PEM files, one
#     key per chain, in the same order; each chain file leaf first, then
#     its intermediates): those instead, the first being the default.
#
# THE PRIVATE KEYS END UP IN THE IMAGE (and in the hosted programs that
# link the certificates), in the clear. The development keys are for
# development only; a real deployment passes TLS_CERT/TLS_KEY.
#
#   make tls-certs     the baked certificate table ($(BUILD)/tls/tls_certs.c)
#   make tls-build     certbake and $(BUILD)/tls/tls_serve, the engine on
#                      Linux sockets (tests/tls/tls_serve.c)
#   make tls-tests     builds them and runs tests/tls/run.sh

TLS_BUILD := $(BUILD)/tls
TLS_DEV := $(TLS_BUILD)/dev
CERTBAKE := $(BUILD)/host/certbake
# What a client of `make run` (QEMU user networking: the guest is
# 10.0.2.15, https://localhost:8443/ forwarded to its port 443), the
# tap-hosted runner or the native runner would connect to.
TLS_DEV_SAN := DNS:localhost,DNS:kiln.local,DNS:*.kiln.test,IP:127.0.0.1,IP:::1,IP:10.0.2.15
TLS_DEV_FILES := $(addprefix $(TLS_DEV)/,ca.pem ca.key ecdsa.pem ecdsa.key rsa.pem rsa.key)

TLS_CERT ?=
TLS_KEY ?=
ifeq ($(strip $(TLS_CERT)$(TLS_KEY)),)
TLS_CERT_FILES := $(TLS_DEV)/ecdsa.pem $(TLS_DEV)/rsa.pem
TLS_KEY_FILES := $(TLS_DEV)/ecdsa.key $(TLS_DEV)/rsa.key
else
ifneq ($(words $(TLS_CERT)),$(words $(TLS_KEY)))
$(error TLS_CERT names $(words $(TLS_CERT)) file(s) and TLS_KEY $(words $(TLS_KEY)): one key per certificate chain)
endif
TLS_CERT_FILES := $(TLS_CERT)
TLS_KEY_FILES := $(TLS_KEY)
endif
# CHAIN KEY CHAIN KEY ...
TLS_PAIRS := $(subst |, ,$(join $(TLS_CERT_FILES),$(addprefix |,$(TLS_KEY_FILES))))

CERTBAKE_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes \
                   -Wmissing-prototypes -Wpointer-arith -Wvla -Werror -D_DEFAULT_SOURCE \
                   -Iinclude -isystem $(BEARSSL_INC)

$(CERTBAKE): tools/certbake/certbake.c include/kiln/tls.h | deps
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(CERTBAKE_CFLAGS) $< -o $@ -lbearssl

# The development set: made when any file of it is missing, never
# otherwise (a new CA would invalidate every ca.pem handed out).
$(TLS_DEV_FILES) &: | deps
	@echo "  TLSDEV  $(TLS_DEV) ($(TLS_DEV_SAN))"
	$(Q)tools/certbake/devcerts.sh $(TLS_DEV) '$(TLS_DEV_SAN)'

# Which files are baked, so that changing TLS_CERT/TLS_KEY rebakes
# (rewritten only when it changes).
$(TLS_BUILD)/sources: tls-sources-check
	@mkdir -p $(dir $@)
	$(Q)echo '$(TLS_PAIRS)' | cmp -s - $@ 2>/dev/null || echo '$(TLS_PAIRS)' > $@

$(TLS_BUILD)/tls_certs.c: $(CERTBAKE) tools/certbake/bake.sh $(TLS_BUILD)/sources $(TLS_PAIRS)
	@echo "  CERTBAKE $@"
	$(Q)tools/certbake/bake.sh $(CERTBAKE) $@ $(TLS_PAIRS)

TLS_CERTS_KOBJ := $(KBUILD)/tls/tls_certs.o
TLS_CERTS_HOBJ := $(HBUILD)/tls/tls_certs.o

$(TLS_CERTS_KOBJ): $(TLS_BUILD)/tls_certs.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(TLS_CERTS_HOBJ): $(TLS_BUILD)/tls_certs.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(HCFLAGS) -MMD -MP -c $< -o $@

# The engine on Linux sockets for the interoperability tests: the hosted
# archive (ASan/UBSan) and the baked certificates.
TLS_SERVE := $(TLS_BUILD)/tls_serve

$(TLS_SERVE): tests/tls/tls_serve.c $(TLS_CERTS_HOBJ) $(HBUILD)/libkiln.a
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(HCFLAGS) -MMD -MP $< $(TLS_CERTS_HOBJ) -o $@ $(HBUILD)/libkiln.a \
		$(HLDFLAGS) -lbearssl

tls-certs: $(TLS_BUILD)/tls_certs.c
tls-build: $(CERTBAKE) $(TLS_SERVE) $(TLS_DEV_FILES)
tls-tests: tls-build
	$(Q)BUILD=$(BUILD) tests/tls/run.sh

-include $(TLS_CERTS_KOBJ:.o=.d) $(TLS_CERTS_HOBJ:.o=.d) $(TLS_SERVE).d

.PHONY: tls-certs tls-build tls-tests tls-sources-check
