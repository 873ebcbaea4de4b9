# udpecho - the tap-hosted runner's test app: UDP echo on port 7.
udpecho_SRCS := main.c
udpecho_PARTS := net
udpecho_HOSTED := 1
