# Booting an image by hand.
#   make run [APP=hello] [MACHINE=microvm|q35] [ACCEL=kvm|tcg]
#   make debug [APP=...]   QEMU's gdb stub plus gdb with symbols

run: $(KBUILD)/$(APP).elf
	$(Q)MACHINE=$(MACHINE) ACCEL=$(ACCEL) tools/qemu.sh run $(KBUILD)/$(APP).elf

debug: $(KBUILD)/$(APP).elf
	$(Q)MACHINE=$(MACHINE) tools/debug.sh $(KBUILD)/$(APP).elf

.PHONY: run debug
