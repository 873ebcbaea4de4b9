# natecho - the native runner's test app (tests/native/run.sh): TCP echo
# and UDP echo on port 7, chargen with borrowed writes on port 19.
natecho_SRCS := main.c
natecho_PARTS :=
natecho_NATIVE := 1
