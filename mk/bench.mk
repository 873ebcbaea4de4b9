# The benchmark (SPEC 7): Kiln's webserver against Linux guests running
# nginx and Kiln's native variant, on the same QEMU machine, from this
# host with wrk. See docs/benchmarking.md.
#
#   make bench [BENCH=full|quick|smoke]   results in $(BUILD)/bench/results.md
#                                         and results.svg
#   make bench-guest                      only build the Linux guest
#
# Everything downloaded comes from Debian: wrk is installed on the host;
# the guest's kernel (linux-image-amd64), busybox-static and nginx are
# fetched with `apt-get download` and unpacked under $(BUILD)/bench/deb
# without installing them (bench/fetch-debs.sh). Other variables: SMP,
# MEM, ACCEL, BENCH_SERVERS, BENCH_ROUNDS, BENCH_SECONDS (bench/run.pl).
#
# Included last by the top Makefile: it needs the app list and the apps'
# <app>_NATIVE settings.

BBUILD := $(BUILD)/bench
BENCH ?= full
BENCH_HOST_PKGS := wrk
BENCH_DEBS := linux-image-amd64 busybox-static nginx
# The native variant, once apps/webserver/app.mk sets webserver_NATIVE.
BENCH_NATIVE := $(if $(filter 1,$(webserver_NATIVE)),$(BUILD)/native/webserver)
BENCH_KILN := $(if $(filter webserver,$(APPS)),$(KBUILD)/webserver.elf)
# The folders baked into apps/webserver, served by nginx as well.
BENCH_SITE := apps/webserver/site/static $(KILN_DOCSITE)
bench_empty :=
bench_space := $(bench_empty) $(bench_empty)
BENCH_SITE_PATH := $(subst $(bench_space),:,$(strip $(BENCH_SITE)))

bench-deps:
ifneq ($(KILN_NO_DEPS),1)
	$(Q)tools/deps.sh $(BENCH_HOST_PKGS)
endif

$(BBUILD)/deb/stamp: bench/fetch-debs.sh
	$(Q)bench/fetch-debs.sh $(BBUILD)/deb $(BENCH_DEBS)

$(BBUILD)/udpload: bench/udpload.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) -std=gnu11 -O2 -Wall -Wextra -Werror $< -o $@

$(BBUILD)/linux/initramfs.cpio.gz: $(BBUILD)/deb/stamp bench/guest/mkguest.sh bench/guest/init \
		bench/guest/nginx.conf $(KILN_DOCSITE) $(wildcard apps/webserver/site/static/*) $(BENCH_NATIVE) \
		$(firstword $(TLS_CERT_FILES)) $(firstword $(TLS_KEY_FILES))
	@echo "  GUEST   $(BBUILD)/linux"
	$(Q)TLS_PEM=$(firstword $(TLS_CERT_FILES)) TLS_KEY_PEM=$(firstword $(TLS_KEY_FILES)) bench/guest/mkguest.sh $(BBUILD)/linux $(BBUILD)/deb/root "$(BENCH_SITE_PATH)" $(BENCH_NATIVE)

bench-guest: $(BBUILD)/linux/initramfs.cpio.gz

bench: deps bench-deps $(BENCH_KILN) $(BENCH_NATIVE) $(BBUILD)/udpload bench-guest
	$(Q)OUT=$(BBUILD) BENCH=$(BENCH) KILN_ELF=$(BENCH_KILN) LINUX_DIR=$(BBUILD)/linux \
		NATIVE=$(BENCH_NATIVE) NGINX_BIN=$(BBUILD)/deb/root/usr/sbin/nginx UDPLOAD=$(BBUILD)/udpload \
		bench/run.pl

.PHONY: bench bench-deps bench-guest
