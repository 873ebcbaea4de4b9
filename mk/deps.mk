# Debian packages Kiln needs to build, run and test. `make deps` installs
# the missing ones (apt-get directly as root, through sudo otherwise). KILN_NO_DEPS=1 skips it.

DEB_PKGS := gcc make binutils qemu-system-x86 qemu-utils libcmocka-dev \
            libbearssl-dev gdb perl
# libclang-rt-dev: libFuzzer and the sanitizer runtimes of Debian's default
# clang (no version in the name, so Debian 12 and 13 both have it)
DEB_PKGS += clang libclang-rt-dev
# tap-hosted runner tests (tests/hosted/): a DHCP server and Linux's own tools
DEB_PKGS += dnsmasq-base iputils-ping iputils-arping python3
# end-to-end tests (tests/e2e/): namespaces and TAP devices (ip), ps
DEB_PKGS += iproute2 procps
DEB_PKGS += cmark-gfm zlib1g-dev
# HTTP tests (tests/http/): clients and a real browser (playwright-core from npm drives it)
DEB_PKGS += curl wrk chromium nodejs@node npm@npm
# TLS tests (tests/tls/): certificates made with openssl, and real clients
DEB_PKGS += openssl gnutls-bin

deps:
ifneq ($(KILN_NO_DEPS),1)
	$(Q)tools/deps.sh $(DEB_PKGS)
endif

.PHONY: deps
