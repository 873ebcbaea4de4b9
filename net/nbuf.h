/*
 * nbuf.h - Kiln's one packet-buffer type (design: docs/networking.md).
 *
 * An nbuf is a segment descriptor: data/len describe bytes inside base/
 * size, which is either the descriptor's own buffer from a pool or a
 * borrowed read-only span (NBUF_F_BORROWED). A packet is a chain of
 * segments linked by next; its head carries the packet length and the
 * offload metadata. Queues of packets link heads through link.
 *
 * OWNERSHIP - the rules every net/ function follows:
 *  - A function that takes a `struct nbuf *` consumes it (the whole
 *    chain), on success and on failure alike. The caller must not touch
 *    it afterwards. A function that takes `const struct nbuf *` only
 *    reads it, during the call.
 *  - nbuf_free() returns each segment to the pool it came from, on the
 *    core that owns that pool (pools are per core; no locks).
 *  - A borrowed segment points at memory the stack never writes. The
 *    lender keeps it unchanged until the segment's done callback runs,
 *    which happens exactly once, when the segment is freed (the device
 *    completed the send, or the packet was dropped).
 *
 * HEADROOM - buffers from nbuf_alloc() start with data at NBUF_HEADROOM
 * so every header down to the 12-byte virtio-net header can be pushed in
 * front of the payload without a copy. Received frames sit at least
 * NBUF_RX_HEADROOM after base (drivers reserve it), so a reply can be
 * built in place in the received buffer.
 */
#ifndef NET_NBUF_H
#define NET_NBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* virtio_net_hdr_v1 (VERSION_1, and MRG_RXBUF's num_buffers) */
#define NBUF_VNET_HDR_LEN 12
/* vnet 12 + Ethernet 14 + IPv6 40 + TCP with options 60 = 126; IPv4
 * (20, Kiln sends no IP options) fits with room to spare. */
#define NBUF_HEADROOM 128
/* Drivers place received frames at least this far into the buffer: the
 * virtio-net header the device writes is exactly there. */
#define NBUF_RX_HEADROOM NBUF_VNET_HDR_LEN
/* The default data area: a full 1514-byte frame after the headroom, with
 * a 64-byte aligned stride. */
#define NBUF_DATA_SIZE 2048

/* flags */
#define NBUF_F_BORROWED   0x0001  /* data points into a lent read-only span */
#define NBUF_F_FREE       0x0002  /* on its pool's free list (debug check) */
#define NBUF_F_CSUM_VALID 0x0004  /* rx: device verified the L4 checksum */
#define NBUF_F_IP_CSUM_OK 0x0008  /* rx: device verified the IPv4 header checksum */
#define NBUF_F_CSUM_PARTIAL 0x0010 /* tx: device must finish the L4 checksum */
#define NBUF_F_L2_BCAST   0x0020  /* rx: arrived to a link-layer group address */

struct nbuf;
struct nbuf_pool;
typedef void (*nbuf_done_fn)(void *arg);

struct nbuf {
	struct nbuf *next;          /* next segment of this packet */
	struct nbuf *link;          /* next packet in a queue (head only) */
	uint8_t *data;              /* first byte of this segment's content */
	uint32_t len;               /* content bytes in this segment */
	uint32_t pkt_len;           /* head only: len summed over the chain */
	uint8_t *base;              /* storage: own area or borrowed span */
	uint32_t size;              /* bytes of storage at base */
	uint16_t flags;
	/* tx offload (head only, NBUF_F_CSUM_PARTIAL): the device sums from
	 * csum_start (bytes from base) to the end of the packet and stores the
	 * folded complement at csum_start + csum_offset. The field holds the
	 * pseudo-header sum beforehand (virtio-net, Linux CHECKSUM_PARTIAL). */
	uint16_t csum_start, csum_offset;
	uint16_t gso_size;          /* tx: TSO payload per segment, 0 = none */
	struct nbuf_pool *pool;
	nbuf_done_fn done;          /* borrowed: called once when freed */
	void *done_arg;
};

struct nbuf_pool_stats {
	uint64_t allocs, frees;
	uint64_t empty;             /* allocations refused: pool exhausted */
	uint64_t reserved;          /* refused to keep a reserve (below) */
	uint32_t low_water;         /* fewest free buffers seen */
};

/*
 * What an allocation is for, which decides how deep into the pool it may
 * reach (nbuf_pool_reserve). Data - payload copies, data segments'
 * headers, reassembly - can never take the last reserve_ctrl +
 * reserve_rx buffers; control segments (ACK, RST, SYN-ACK, ARP, ICMP)
 * never the last reserve_rx; only the receive ring's refill takes those.
 * So a flood of data cannot stop the ring refilling (no segment, not
 * even the RST that would end the flood, could arrive), nor stop the
 * ACKs and resets that let peers recover.
 */
enum nbuf_prio {
	NBUF_PRIO_DATA = 0,
	NBUF_PRIO_CTRL,
	NBUF_PRIO_RX,
};

/*
 * A per-core pool of fixed-size buffers carved at init (or of bare
 * descriptors when data_size is 0, used for borrowed spans). Allocation
 * and free are O(1) pops and pushes on a free list.
 */
struct nbuf_pool {
	struct nbuf *free_list;
	uint32_t nfree, count;
	uint32_t reserve_rx, reserve_ctrl;  /* see enum nbuf_prio */
	uint32_t data_size;
	const char *name;
	struct nbuf_pool_stats stats;
};

/*
 * Carves mem (caller-owned, at least 64-byte aligned, kept for the pool's
 * life) into as many buffers of data_size bytes (0: descriptors only) as
 * fit. Returns the number carved, or K_EINVAL when none fits.
 */
int nbuf_pool_init(struct nbuf_pool *pool, void *mem, size_t mem_size,
		   uint32_t data_size, const char *name);
/* The bytes one buffer of data_size takes in a pool (to size mem). */
size_t nbuf_pool_stride(uint32_t data_size);

/* Sets the pool's reserves (enum nbuf_prio); both 0 after init. */
void nbuf_pool_reserve(struct nbuf_pool *pool, uint32_t rx, uint32_t ctrl);

/* A buffer with data at NBUF_HEADROOM (capped to the size) and len 0;
 * NULL (counted) when the pool is empty or only its reserve for higher
 * priorities is left. */
struct nbuf *nbuf_alloc_prio(struct nbuf_pool *pool, enum nbuf_prio prio);
/* nbuf_alloc_prio(pool, NBUF_PRIO_DATA) */
struct nbuf *nbuf_alloc(struct nbuf_pool *pool);
/* A descriptor lending [p, p+len): never written by the stack; done(arg)
 * runs once when it is freed. NULL when the pool is empty, in which case
 * nothing was taken and done is not called. */
struct nbuf *nbuf_borrow(struct nbuf_pool *refs, const void *p, size_t len,
			 nbuf_done_fn done, void *arg);

/* Frees every segment of the chain (NULL is allowed). */
void nbuf_free(struct nbuf *nb);
/* Frees every packet of a queue linked through link. */
void nbuf_free_queue(struct nbuf *q);

/* The head's packet length. */
static inline size_t nbuf_pkt_len(const struct nbuf *nb) { return nb->pkt_len; }
static inline size_t nbuf_headroom(const struct nbuf *nb) { return (size_t)(nb->data - nb->base); }
static inline size_t nbuf_tailroom(const struct nbuf *nb)
{
	return (size_t)(nb->base + nb->size - (nb->data + nb->len));
}
/* How many segments the chain has. */
unsigned nbuf_segments(const struct nbuf *nb);
/* The memory the chain pins: each segment's whole pool stride, however
 * few bytes it holds (Linux's truesize). Budgets charge this, never the
 * payload length, so tiny segments cannot hide their real cost. */
size_t nbuf_truesize(const struct nbuf *nb);

/* Prepends n bytes to the head segment; returns the new data pointer,
 * or NULL (nothing changed) without room or on a borrowed segment. */
uint8_t *nbuf_push(struct nbuf *nb, size_t n);
/* Removes n bytes from the front of the head segment; returns the new
 * data pointer, or NULL (nothing changed) if the segment is shorter. */
uint8_t *nbuf_pull(struct nbuf *nb, size_t n);
/* Appends n bytes of tailroom to the head segment (a single-segment
 * packet being built); returns where they start, or NULL without room. */
uint8_t *nbuf_put(struct nbuf *nb, size_t n);
/* Shortens the packet to pkt_len bytes (no-op if already shorter),
 * freeing the segments that fall wholly beyond it. */
void nbuf_trim(struct nbuf *nb, size_t pkt_len);
/* Appends the chain seg (a head: its pkt_len counts) to head's chain;
 * seg becomes part of head and is no longer a packet of its own. */
void nbuf_append(struct nbuf *head, struct nbuf *seg);

/* Copies n bytes at packet offset off into dst; K_EINVAL (nothing
 * copied) if the range leaves the packet. */
int nbuf_copy_out(const struct nbuf *nb, size_t off, void *dst, size_t n);
/* Appends a copy of [src, src+n) at the end of the packet, filling the
 * last segment's tailroom and then new buffers from pool. K_ENOMEM when
 * the pool runs out (the packet then holds a prefix of the copy; the
 * caller frees it). The last segment must not be borrowed. */
int nbuf_append_copy(struct nbuf *head, struct nbuf_pool *pool, const void *src, size_t n);
/* Makes the first n bytes of the packet contiguous in the head segment,
 * moving bytes from later segments into its tailroom. K_EINVAL if the
 * packet is shorter, K_ENOSPC if the head has no room. */
int nbuf_linearize(struct nbuf *nb, size_t n);

#endif
