# The parts of Kiln an app can link, each a list of sources.
#
# PART_core is always linked. An app names the others it wants in its
# app.mk (<app>_PARTS); a part's dependencies are listed in DEPS_<part>.
# The portable subset of each list (PORTABLE_<part>) is what the hosted
# build compiles too.

ARCH_SRCS := $(wildcard arch/$(ARCH)/*.c) $(wildcard arch/$(ARCH)/*.S)

PORTABLE_core := $(wildcard libc/fmt.c) $(wildcard kernel/err.c) \
                 $(wildcard kernel/cmdline.c) $(wildcard kernel/page.c) \
                 $(wildcard kernel/obj.c) $(wildcard runtime/timer_wheel.c)
PART_core := $(ARCH_SRCS) $(wildcard libc/*.c) $(wildcard kernel/*.c) \
             $(wildcard runtime/*.c)

PART_pci := $(wildcard drivers/pci/*.c)
PART_virtio := $(wildcard drivers/virtio/virtq.c drivers/virtio/virtio_pci.c \
               drivers/virtio/virtio_mmio.c drivers/virtio/virtio.c)
DEPS_virtio := pci
PART_virtio_rng := $(wildcard drivers/virtio/virtio_rng.c)
DEPS_virtio_rng := virtio
PART_virtio_net := $(wildcard drivers/virtio/virtio_net.c)
DEPS_virtio_net := virtio net

# The network stack (portable: the hosted build compiles all of it).
PORTABLE_net := $(wildcard net/*.c)
PART_net := $(PORTABLE_net)

# The HTTP/1.1 server engine (portable; transport-agnostic).
PORTABLE_http := $(wildcard proto/http/*.c)
PART_http := $(PORTABLE_http)
DEPS_http := net

# The TLS 1.3 server engine (portable; transport-agnostic) and its
# transport on Kiln's TCP under the HTTP engine.
PORTABLE_tls := $(wildcard proto/tls/*.c)
PART_tls := $(PORTABLE_tls)
DEPS_tls := net http

# KILN_EXCLUDE drops sources from every part (for bisecting a build).
$(foreach p,$(filter PART_%,$(.VARIABLES)),$(eval $(p) := $(filter-out $(KILN_EXCLUDE),$($(p)))))

# Expands a list of parts with their dependencies (two levels are enough).
parts_closure = $(sort $(1) $(foreach p,$(1),$(DEPS_$(p))) \
                $(foreach p,$(1),$(foreach q,$(DEPS_$(p)),$(DEPS_$(q)))))

PORTABLE_virtio := $(wildcard drivers/virtio/virtq.c)
