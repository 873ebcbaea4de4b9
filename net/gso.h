/*
 * gso.h - TCP segmentation in software: what a device with TSO does to a
 * large TCP/IPv4 packet, for devices (and test links) that cannot.
 */
#ifndef NET_GSO_H
#define NET_GSO_H

#include "nbuf.h"

/*
 * Splits nb - a frame with data at the Ethernet header, IPv4 and TCP
 * headers in its head segment, NBUF_F_CSUM_PARTIAL and gso_size set -
 * into frames of at most gso_size payload bytes each, copied into
 * buffers from pool: each gets its own IP total length, identification
 * and header checksum, TCP sequence number and complete checksum; FIN
 * and PSH stay on the last, CWR on the first (RFC 3168 6.1.2). Consumes
 * nb. Returns the frames as a queue linked through link, or NULL when nb
 * is malformed or the pool runs out (nothing is returned then).
 */
struct nbuf *gso_segment(struct nbuf *nb, struct nbuf_pool *pool);

#endif
