# Baked assets: the host baker (tools/bake), the `assets` part (the
# lookup, proto/assets/), Kiln's documentation rendered as a site, and the
# hook that links a baked table into an app's image.
#
# An app bakes files into its image from its app.mk:
#
#   <app>_ASSETS := site/static          folders relative to the app's folder
#   <app>_ASSETS_TREES := $(KILN_DOCSITE) folders named from the top of the
#                                        tree, or made by a make rule
#
# All folders are merged into one table (a path found twice is an error).
# The part `assets` is then linked, and $(KBUILD)/assets/<app>.o (the
# table plus one .incbin of the bytes) joins the image's objects; the app
# calls assets_find() (include/kiln/assets.h). A baked file that changes,
# appears or disappears rebakes (tools/bake writes a depfile). Hosted
# builds of the app link $(<app>_HOSTED_ASSETS_OBJ), the same table baked
# position-independent.
#
# make docsite   renders $(KILN_DOCSITE) alone (README.md as /, docs/*.md
#                as /docs/<name>.html), to look at in a browser.

HOSTCC ?= cc
BAKE := $(BUILD)/host/bake
BAKE_CFLAGS := -std=c11 -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes -Werror -Iinclude -Iproto/assets \
               -isystem $(BEARSSL_INC)

PART_assets := proto/assets/assets.c
PORTABLE_assets := proto/assets/assets.c

$(BAKE): tools/bake/bake.c proto/assets/assets_table.h include/kiln/assets.h | deps
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(BAKE_CFLAGS) $< -o $@ -lbearssl -lz

# Kiln's documentation as HTML pages in the webserver's template
# (tools/bake/docsite.sh, cmark-gfm). Its CSS and JS are the webserver's
# apps/webserver/site/static/ files, which the webserver bakes alongside.
KILN_DOCSITE := $(BUILD)/docsite
DOCSITE_TEMPLATE := apps/webserver/site/template.html
DOCSITE_SRCS := README.md $(sort $(wildcard docs/*.md))

$(KILN_DOCSITE): $(DOCSITE_SRCS) $(DOCSITE_TEMPLATE) tools/bake/docsite.sh | deps
	@echo "  DOCSITE $@"
	$(Q)tools/bake/docsite.sh $(DOCSITE_TEMPLATE) $@ $(DOCSITE_SRCS)

docsite: $(KILN_DOCSITE)

# The whole baked site of apps/webserver: its static files and the docs.
# apps/webserver/app.mk says: webserver_ASSETS_TREES := $(KILN_SITE_TREES)
KILN_SITE_TREES := apps/webserver/site/static $(KILN_DOCSITE)

# Called by kiln_app (mk/kernel.mk) right after it reads an app.mk:
# $(1) = app name, $(2) = app folder.
define kiln_app_assets
ifneq ($$(strip $$($(1)_ASSETS) $$($(1)_ASSETS_TREES)),)
$(1)_PARTS += assets
$(1)_ASSETS_DIRS := $$(addprefix $(2)/,$$($(1)_ASSETS)) $$($(1)_ASSETS_TREES)
$(1)_ASSETS_OBJ := $(KBUILD)/assets/$(1).o

$(KBUILD)/assets/$(1).S: $(BAKE) $$($(1)_ASSETS_DIRS)
	@mkdir -p $$(dir $$@)
	$(Q)$(BAKE) --name $(1) -o $$@ -d $(KBUILD)/assets/$(1).d $$($(1)_ASSETS_DIRS)

$(KBUILD)/assets/$(1).o: $(KBUILD)/assets/$(1).S
	$(Q)$(CC) $(KASFLAGS) -c $$< -o $$@

-include $(KBUILD)/assets/$(1).d

# The same table for hosted builds of the app (tap runner, native): link
# $$($(1)_HOSTED_ASSETS_OBJ) with the app's hosted objects.
$(1)_HOSTED_ASSETS_OBJ := $(HBUILD)/assets/$(1).o
$(HBUILD)/assets/$(1).S: $(BAKE) $$($(1)_ASSETS_DIRS)
	@mkdir -p $$(dir $$@)
	$(Q)$(BAKE) --pic --name $(1) -o $$@ -d $(HBUILD)/assets/$(1).d $$($(1)_ASSETS_DIRS)

-include $(HBUILD)/assets/$(1).d
endif
endef

# The hosted lookup tests link a table baked from tests/unit/assets/
# (position-independent: pointer tables go to .data.rel.ro). zlib lets the
# test inflate the gzip variants and compare them with the originals.
ASSETS_FIXTURE := tests/unit/assets

$(HBUILD)/assets/fixture.S: $(BAKE) $(ASSETS_FIXTURE)
	@mkdir -p $(dir $@)
	$(Q)$(BAKE) --pic --name fixture -o $@ -d $(HBUILD)/assets/fixture.d $(ASSETS_FIXTURE)

# test_docsite checks the real site the same way (every page there, every
# link between pages resolves, gzip variants intact).
$(HBUILD)/assets/docsite.S: $(BAKE) $(KILN_SITE_TREES)
	@mkdir -p $(dir $@)
	$(Q)$(BAKE) --pic --name docsite -o $@ -d $(HBUILD)/assets/docsite.d $(KILN_SITE_TREES)

$(HBUILD)/assets/%.o: $(HBUILD)/assets/%.S
	$(Q)$(CC) -c $< -o $@

$(HBUILD)/tests/test_assets: $(HBUILD)/assets/fixture.o
$(HBUILD)/tests/test_docsite: $(HBUILD)/assets/docsite.o

$(HBUILD)/tests/test_assets $(HBUILD)/tests/test_docsite: $(HBUILD)/tests/%: \
		tests/unit/%.c $(HBUILD)/libkiln.a
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	$(Q)$(CC) $(HCFLAGS) -MMD -MP $< $(filter %.o,$^) -o $@ \
		$(HBUILD)/libkiln.a $(HLDFLAGS) -lcmocka -lbearssl -lz

-include $(HBUILD)/assets/fixture.d $(HBUILD)/assets/docsite.d

# The fuzz target links the fixture table too (assembled by clang).
# (FBUILD is defined later, in mk/fuzz.mk.)
$(BUILD)/fuzz/assets/fixture.o: $(HBUILD)/assets/fixture.S
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) -c $< -o $@

$(BUILD)/fuzz/fuzz_assets: tests/fuzz/fuzz_assets.c $(BUILD)/fuzz/libkiln.a $(BUILD)/fuzz/assets/fixture.o
	@mkdir -p $(dir $@)
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP $< $(BUILD)/fuzz/assets/fixture.o \
		-o $@ $(FBUILD)/libkiln.a -lbearssl

.PHONY: docsite
