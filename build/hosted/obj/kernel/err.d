build/hosted/obj/kernel/err.o: kernel/err.c include/kiln/err.h
include/kiln/err.h:
