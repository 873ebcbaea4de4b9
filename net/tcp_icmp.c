/*
 * tcp_icmp.c - TCP's side of ICMP "fragmentation needed": is the quoted
 * segment one of ours? (RFC 5927 4.1, 5.2).
 *
 * Interface: tcp_icmp_quote_ok() in net_priv.h, called by icmp.c.
 *
 * An ICMP error quotes the IP header and at least 8 bytes of the datagram
 * that provoked it: for TCP, both ports and the sequence number. A report
 * is believed only when that 4-tuple names a connection and the sequence
 * number lies in its send window, snd_una <= seq < snd_max - a segment
 * that is still in flight. An off-path attacker would have to guess a
 * live window to shrink a connection's segments; a blind flood of
 * reports changes nothing and is counted (icmp_needfrag_forged).
 */
#include <stdbool.h>
#include <stdint.h>

#include "net_priv.h"
#include "tcp_priv.h"

bool tcp_icmp_quote_ok(struct net_if *nif, uint32_t laddr, uint32_t raddr, uint16_t lport,
		       uint16_t rport, uint32_t seq)
{
	struct tcp_stack *st = nif->tcp;
	if (!st)
		return false;
	struct tcp_conn *c = tcp_lookup(st, laddr, lport, raddr, rport);
	if (!c)
		return false;
	return SEQ_GEQ(seq, c->snd_una) && SEQ_LT(seq, c->snd_max);
}
