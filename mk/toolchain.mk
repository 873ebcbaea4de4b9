# Toolchain and flags for the freestanding kernel build and the hosted build.

CC      ?= gcc
LD      := ld
OBJCOPY := objcopy
NM      := nm
ifeq ($(origin CC),default)
CC := gcc
endif

KBUILD := $(BUILD)/$(ARCH)
HBUILD := $(BUILD)/hosted

BEARSSL_INC := /usr/include/bearssl
BEARSSL_LIB := /usr/lib/x86_64-linux-gnu/libbearssl.a

GCC_INC := $(shell $(CC) -print-file-name=include)
LIBGCC  := $(shell $(CC) -print-libgcc-file-name)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-unused-parameter -Wpointer-arith -Wvla -Werror

COMMON_INC := -Iinclude -I.

# Kernel code: freestanding, no red zone (interrupts use the same stack),
# frame pointers for backtraces, canaries through %fs:0x28 (set at boot).
KCFLAGS := -std=gnu11 -O2 -g -ffreestanding -nostdlib -nostdinc \
           -isystem $(GCC_INC) -isystem $(BEARSSL_INC) \
           -fno-pic -fno-pie -mno-red-zone -fno-omit-frame-pointer \
           -fstack-protector-strong -ffunction-sections -fdata-sections \
           -fno-strict-aliasing -fno-common -fno-asynchronous-unwind-tables \
           -DKILN_KERNEL=1 $(WARN) -Ilibc/include $(COMMON_INC) -Iarch/$(ARCH)/include
KASFLAGS := -g -D__ASSEMBLY__ -Ilibc/include $(COMMON_INC) -Iarch/$(ARCH)/include
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
            --gc-sections --build-id=none -T arch/$(ARCH)/kernel.ld

# Hosted code: the same portable sources as a Linux program, with ASan and
# UBSan, for unit tests, simulation and fuzzing.
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
HCFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer $(SANITIZE) \
           -DKILN_HOSTED=1 $(WARN) -Wno-missing-prototypes $(COMMON_INC) \
           -Iplatform/hosted/include -Iarch/$(ARCH)/include -isystem $(BEARSSL_INC)
HLDFLAGS := $(SANITIZE)
