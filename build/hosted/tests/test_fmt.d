build/hosted/tests/test_fmt: tests/unit/test_fmt.c include/kiln/fmt.h
include/kiln/fmt.h:
