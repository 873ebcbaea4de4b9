# Rules for kernel objects and app images.
#
# An image is linked twice: the first link gives the addresses of every
# function, tools/mksyms.sh turns them into a table (section .ksyms, placed
# after .text so no function moves), and the second link includes it so
# panics print function names. Debug info is split into <app>.debug.

$(KBUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) $(CFLAGS_$(notdir $<)) -MMD -MP -c $< -o $@

$(KBUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KASFLAGS) -MMD -MP -c $< -o $@

kobjs = $(addprefix $(KBUILD)/obj/,$(patsubst %.S,%.o,$(patsubst %.c,%.o,$(1))))

# $(1) = app name, $(2) = app directory (holding app.mk and its sources)
define kiln_app
include $(2)/app.mk
$$(eval $$(call kiln_app_assets,$(1),$(2)))
$(1)_ALLPARTS := core $$(call parts_closure,$$($(1)_PARTS))
$(1)_OBJS := $$(call kobjs,$$(foreach p,$$($(1)_ALLPARTS),$$(PART_$$(p))) \
                $$(addprefix $(2)/,$$($(1)_SRCS))) $$($(1)_ASSETS_OBJ)
# An app with the part `tls` links the baked certificates (mk/tls.mk) -
# and so carries their private keys in its image.
$(1)_OBJS += $$(if $$(filter tls,$$($(1)_ALLPARTS)),$(TLS_CERTS_KOBJ))

$(KBUILD)/$(1).pass1.elf: $$($(1)_OBJS) $(KBUILD)/obj/empty_syms.o arch/$(ARCH)/kernel.ld
	$(Q)$(LD) $(KLDFLAGS) -o $$@ $$($(1)_OBJS) $(KBUILD)/obj/empty_syms.o $(BEARSSL_LIB) $(LIBGCC)

$(KBUILD)/$(1).syms.S: $(KBUILD)/$(1).pass1.elf tools/mksyms.sh
	$(Q)NM=$(NM) tools/mksyms.sh $$< > $$@

$(KBUILD)/$(1).elf: $(KBUILD)/$(1).syms.S $(KBUILD)/$(1).pass1.elf
	@echo "  LD      $$@"
	$(Q)$(CC) $(KASFLAGS) -c $(KBUILD)/$(1).syms.S -o $(KBUILD)/$(1).syms.o
	$(Q)$(LD) $(KLDFLAGS) -o $$@.full $$($(1)_OBJS) $(KBUILD)/$(1).syms.o $(BEARSSL_LIB) $(LIBGCC)
	$(Q)tools/checksyms.sh $(KBUILD)/$(1).pass1.elf $$@.full
	$(Q)$(OBJCOPY) --only-keep-debug $$@.full $(KBUILD)/$(1).debug
	$(Q)$(OBJCOPY) --strip-debug --add-gnu-debuglink=$(KBUILD)/$(1).debug $$@.full $$@
	$(Q)rm -f $$@.full

-include $$($(1)_OBJS:.o=.d)
endef

$(KBUILD)/obj/empty_syms.o: tools/empty_syms.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@
