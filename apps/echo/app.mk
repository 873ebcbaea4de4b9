echo_SRCS := main.c udp_echo.c tcp_services.c
echo_PARTS := virtio_net net virtio_rng
echo_HOSTED := 1
