# Booting an app.
#   make run [APP=webserver] [MACHINE=microvm|q35] [ACCEL=kvm|tcg] [RUNNER=qemu|native]
#   make debug [APP=...]   QEMU's gdb stub plus gdb with symbols
#
# RUNNER=qemu (default) boots $(KBUILD)/$(APP).elf under QEMU user
# networking (slirp: DHCP gives the guest 10.0.2.15) with the host
# forwards HTTP_PORT -> 80 and HTTPS_PORT -> 443 on localhost, and prints
# the URLs first. RUNNER=native runs $(BUILD)/native/$(APP), the same
# app on Linux sockets, on HTTP_PORT directly. RUN_ARGS is appended to the
# kernel command line (or the native program's arguments).

RUNNER ?= qemu
HTTP_PORT ?= 8080
HTTPS_PORT ?= 8443
RUN_ARGS ?=

define run_banner
	@echo "kiln: $(APP) on $(1)"
	@echo "  http://localhost:$(HTTP_PORT)/            the front page (Kiln's docs)"
	@echo "  http://localhost:$(HTTP_PORT)/telemetry/  live telemetry and request feed"
	@echo "  http://localhost:$(HTTP_PORT)/health      http://localhost:$(HTTP_PORT)/metrics"
endef

ifeq ($(RUNNER),native)
run: $(BUILD)/native/$(APP)
	$(call run_banner,the native runner (Linux sockets))
	$(Q)$(BUILD)/native/$(APP) port_offset=$$(($(HTTP_PORT) - 80)) $(RUN_ARGS)
else
run: $(KBUILD)/$(APP).elf
	$(call run_banner,QEMU $(MACHINE) - quit with Ctrl-A then X)
	@echo "  https://localhost:$(HTTPS_PORT)/           the same over TLS 1.3 (curl --cacert $(BUILD)/tls/dev/ca.pem)"
	$(Q)MACHINE=$(MACHINE) ACCEL=$(ACCEL) NET=user \
		HOSTFWD="tcp:127.0.0.1:$(HTTP_PORT)-:80,tcp:127.0.0.1:$(HTTPS_PORT)-:443" \
		APPEND="$(RUN_ARGS)" tools/qemu.sh run $(KBUILD)/$(APP).elf
endif

debug: $(KBUILD)/$(APP).elf
	$(Q)MACHINE=$(MACHINE) tools/debug.sh $(KBUILD)/$(APP).elf

.PHONY: run debug
