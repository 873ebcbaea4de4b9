# Booting an image by hand.
#   make run [APP=hello] [MACHINE=microvm|q35] [ACCEL=kvm|tcg]
#   make debug [APP=...]   (gdb stub on :1234, gdb attached with symbols)

run: $(KBUILD)/$(APP).elf
	$(Q)MACHINE=$(MACHINE) ACCEL=$(ACCEL) tools/qemu.sh run $(KBUILD)/$(APP).elf

debug: $(KBUILD)/$(APP).elf
	$(Q)MACHINE=$(MACHINE) ACCEL=tcg tools/qemu.sh debug $(KBUILD)/$(APP).elf

.PHONY: run debug
