hello_SRCS := main.c
hello_PARTS := virtio_net http
hello_HOSTED := 1
hello_NATIVE := 1
