build/hosted/obj/libc/fmt.o: libc/fmt.c include/kiln/fmt.h
include/kiln/fmt.h:
