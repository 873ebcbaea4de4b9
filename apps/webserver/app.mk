# webserver - the demo: /health, /compute, UDP echo on port 7, Kiln's
# documentation and the live telemetry page baked into the image.
webserver_SRCS := main.c site.c telemetry.c udp_echo.c tls.c
webserver_PARTS := virtio_net virtio_rng http tls
webserver_ASSETS_TREES := $(KILN_SITE_TREES)
webserver_HOSTED := 1
webserver_NATIVE := 1
