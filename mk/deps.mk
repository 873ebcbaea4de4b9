# Debian packages Kiln needs to build, run and test. `make deps` installs
# the missing ones (apt-get; sudo when not root). KILN_NO_DEPS=1 skips it.

DEB_PKGS := gcc make binutils qemu-system-x86 qemu-utils libcmocka-dev \
            libbearssl-dev gdb perl
DEB_PKGS += clang libclang-rt-14-dev
# tap-hosted runner tests (tests/hosted/): a DHCP server and Linux's own tools
DEB_PKGS += dnsmasq-base iputils-ping iputils-arping python3
# end-to-end tests (tests/e2e/): namespaces and TAP devices (ip), ps
DEB_PKGS += iproute2 procps
DEB_PKGS += cmark-gfm zlib1g-dev
# HTTP tests (tests/http/): clients and a real browser (playwright-core from npm drives it)
DEB_PKGS += curl wrk chromium nodejs@node npm@npm

deps:
ifneq ($(KILN_NO_DEPS),1)
	$(Q)tools/deps.sh $(DEB_PKGS)
endif

.PHONY: deps
