# natecho - the native runner's test app (tests/native/run.sh): apps/echo's
# TCP services (echo, discard, chargen with borrowed writes) and a UDP echo
# on port 7 that also takes "exit N".
natecho_SRCS := main.c ../../../apps/echo/tcp_services.c
natecho_PARTS :=
natecho_NATIVE := 1
