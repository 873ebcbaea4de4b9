hello_SRCS := main.c
hello_PARTS :=
