build/hosted/obj/platform/hosted/platform.o: platform/hosted/platform.c \
 include/kiln/fmt.h include/kiln/kiln.h include/kiln/err.h \
 include/kiln/log.h include/kiln/panic.h include/kiln/time.h \
 include/kiln/timer.h include/kiln/task.h include/kiln/loop.h \
 include/kiln/mem.h include/kiln/random.h include/kiln/cmdline.h \
 platform/hosted/include/hosted.h
include/kiln/fmt.h:
include/kiln/kiln.h:
include/kiln/err.h:
include/kiln/log.h:
include/kiln/panic.h:
include/kiln/time.h:
include/kiln/timer.h:
include/kiln/task.h:
include/kiln/loop.h:
include/kiln/mem.h:
include/kiln/random.h:
include/kiln/cmdline.h:
platform/hosted/include/hosted.h:
