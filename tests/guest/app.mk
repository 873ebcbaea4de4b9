# The in-guest self-test image: Kiln's own tiny harness, run on microvm and q35.
selftest_SRCS := $(notdir $(wildcard tests/guest/*.c))
selftest_PARTS := virtio_rng
# Bakes the asset fixture for tests/guest/test_assets.c (mk/assets.mk).
selftest_ASSETS_TREES := tests/unit/assets
