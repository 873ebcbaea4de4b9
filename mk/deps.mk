# Debian packages Kiln needs to build, run and test. `make deps` installs
# the missing ones (apt-get; sudo when not root). KILN_NO_DEPS=1 skips it.

DEB_PKGS := gcc make binutils qemu-system-x86 qemu-utils libcmocka-dev \
            libbearssl-dev gdb perl
DEB_PKGS += clang libclang-rt-14-dev
# tap-hosted runner tests (tests/hosted/): a DHCP server and Linux's own tools
DEB_PKGS += dnsmasq-base iputils-ping iputils-arping python3
DEB_PKGS += cmark-gfm zlib1g-dev

deps:
ifneq ($(KILN_NO_DEPS),1)
	$(Q)tools/deps.sh $(DEB_PKGS)
endif

.PHONY: deps
