/*
 * virtio_net.c - the virtio network device driver (virtio 1.2 section 5.1).
 *
 * Interface: virtio_net.h for telemetry; the stack sees each device only
 * as the struct netdev it attaches with netstack_attach() (net/netstack.h).
 * The driver registers for device id 1 at INIT_EARLY; the transports
 * (virtio-pci, virtio-mmio) find the devices at INIT_DRIVER.
 *
 * What it negotiates (5.1.3), each used when offered: VERSION_1, MAC,
 * STATUS (link state), MTU, MRG_RXBUF, CSUM and GUEST_CSUM (checksum
 * offload both ways), HOST_TSO4/HOST_TSO6 (TSO4 is used for every TCP
 * packet the stack builds larger than a segment), GUEST_TSO4 (with
 * MRG_RXBUF: large received TCP packets arrive in merged buffers and go
 * up whole), EVENT_IDX, CTRL_VQ with CTRL_RX (promiscuous
 * mode off, all-multicast on) and MQ (one queue pair in use; the state
 * is per pair so more cores can take more pairs).
 *
 * Rules:
 *   - Ownership. A receive buffer belongs to the device from virtq_add()
 *     until its used entry comes back, then to the frame being assembled,
 *     then to the stack from netdev_input() on. A transmitted chain
 *     belongs to the driver from xmit (it consumes it on every path) and
 *     to the device from virtq_add() until its completion, when
 *     nbuf_free() returns it to its pools and runs the done callbacks of
 *     borrowed segments.
 *   - No copies, no allocation per packet. Receive buffers come from the
 *     interface's pool (netdev_rx_pool); the device writes the 12-byte
 *     virtio_net_hdr_v1 at the start of each (NBUF_RX_HEADROOM) and the
 *     frame after it (5.1.6.3). Transmit pushes the header into the
 *     head's headroom and gives every segment, borrowed ones included, as
 *     one descriptor of one chain (5.1.6.2): no second header descriptor.
 *   - Batching. xmit only queues and calls loop_kick(); the pair's poller
 *     publishes everything queued (TX and RX refills) with one virtq_kick
 *     per queue, reclaims TX completions, receives at most VNET_RX_BUDGET
 *     frames, refills, and kicks once more for the replies those frames
 *     caused. Event index (2.7.10) suppresses notifications both ways.
 *   - Waking. When a pass finds nothing, the poller re-enables used-buffer
 *     notifications (RX always, TX while frames are in flight) and the
 *     interrupt (MSI-X on PCI, the device's line on MMIO) ends the loop's
 *     halt. While busy, notifications stay off (NAPI style). Where the
 *     transport has no interrupt path, a VNET_POLL_NS timer polls instead.
 *   - A misbehaving device is counted, never trusted: short or oversized
 *     lengths, num_buffers of 0 or above the limit, GSO frames never
 *     negotiated, and whatever virtq rejects are dropped and counted.
 *   - One core per queue pair; no locks. Control-queue commands run at
 *     probe time only, polled with a deadline.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/fmt.h>
#include <kiln/init.h>
#include <kiln/log.h>
#include <kiln/loop.h>
#include <kiln/mem.h>
#include <kiln/random.h>
#include <kiln/time.h>
#include <kiln/timer.h>

#include "net/nbuf.h"
#include "net/netdev.h"
#include "net/netstack.h"
#include "virtio.h"
#include "virtio_net.h"

#define VNET_MAX_DEVS 4
#define VNET_MAX_PAIRS 1          /* per device in use; SMP raises it */
#define VNET_RING_WANT 256        /* QEMU's default and its TAP cap */
#define VNET_CTRL_RING 16
#define VNET_RX_BUDGET 64         /* frames per poller pass: bounds latency
				   * of the other pollers and tasks */
#define VNET_RX_MAX_BUFS 48       /* merged buffers per frame: 64 KiB GSO
				   * frames take 33 of 2 KiB; more is bogus */
#define VNET_TX_MAX_SEGS 64       /* descriptors per transmitted frame */
#define VNET_POLL_NS (500 * NS_PER_US)   /* no interrupt: poll period */
#define VNET_REFILL_RETRY_NS NS_PER_MS   /* pool empty: retry period */
#define VNET_CTRL_TIMEOUT_NS (100 * NS_PER_MS)

/* virtio_net_hdr (5.1.6), little-endian, 12 bytes with VERSION_1. */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));
_Static_assert(sizeof(struct vnet_hdr) == NBUF_VNET_HDR_LEN, "virtio_net_hdr_v1 is 12 bytes");

#define VNET_HDR_F_NEEDS_CSUM 1
#define VNET_HDR_F_DATA_VALID 2
#define VNET_HDR_GSO_NONE 0
#define VNET_HDR_GSO_TCPV4 1

/* Device configuration layout (5.1.4). */
#define VNET_CFG_MAC 0
#define VNET_CFG_STATUS 6
#define VNET_CFG_MAX_PAIRS 8
#define VNET_CFG_MTU 10
#define VNET_S_LINK_UP 1

/* Control queue (5.1.6.5). */
#define VNET_CTRL_RX 0
#define VNET_CTRL_RX_PROMISC 0
#define VNET_CTRL_RX_ALLMULTI 1
#define VNET_CTRL_MQ 4
#define VNET_CTRL_MQ_VQ_PAIRS_SET 0
#define VNET_CTRL_ACK_OFF 64      /* where the ack byte sits in ctrl_buf */

#define VNET_FEATURES                                                     \
	(VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | \
	 VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |          \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |                                  \
	 VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |  \
	 VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |   \
	 VIRTIO_BIT(VIRTIO_NET_F_MQ) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX))

struct vnet;

/* One receive queue and one transmit queue, owned by one core. */
struct vnet_pair {
	struct vnet *vn;
	struct virtq *rx, *tx;
	struct nbuf *rx_pkt, *rx_tail;   /* merged frame being assembled */
	unsigned rx_left;                /* its buffers still to come */
	unsigned rx_skip;                /* buffers of a dropped frame to discard */
	unsigned rx_limit;               /* most receive buffers to post */
	bool rx_added, tx_added;         /* added since the last kick */
	bool cb_on;                      /* notifications enabled */
	struct poller poller;
	struct timer timer;              /* poll (no interrupt) or refill retry */
	struct virtio_net_stats st;
};

struct vnet {
	struct virtio_dev *vdev;
	struct netdev ndev;
	struct vnet_pair pairs[VNET_MAX_PAIRS];
	unsigned npairs;
	uint16_t max_pairs;
	struct virtq *ctrl;
	uint8_t *ctrl_buf;               /* one page for control commands */
	bool mrg, rx_csum, tx_csum, tso4, rx_tso4;
	bool irq;
};

static struct vnet vnet_devs[VNET_MAX_DEVS];
static unsigned vnet_ndevs;

static bool vnet_has(const struct vnet *vn, unsigned bit)
{
	return virtio_has_feature(vn->vdev, bit);
}

/* The pair of the current core (one pair today). */
static struct vnet_pair *vnet_pair_here(struct vnet *vn)
{
	return &vn->pairs[0];
}

/* ---- notifications -------------------------------------------------------- */

static void vnet_kick(struct vnet_pair *q)
{
	if (q->tx_added) {
		q->tx_added = false;
		q->st.tx_kicks++;
		if (virtq_kick(q->tx))
			q->st.tx_notifies++;
	}
	if (q->rx_added) {
		q->rx_added = false;
		q->st.rx_kicks++;
		if (virtq_kick(q->rx))
			q->st.rx_notifies++;
	}
}

/* Interrupt context: count; the trap code wakes the loop. */
static void vnet_irq(void *arg)
{
	struct vnet_pair *q = arg;
	q->st.interrupts++;
}

/* Timer callback: nothing to do but make the loop pass (and poll). */
static void vnet_timer(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
}

/* ---- receive --------------------------------------------------------------- */

/* Posts receive buffers up to rx_limit; published by the next kick. */
static void vnet_rx_refill(struct vnet_pair *q)
{
	struct nbuf_pool *pool = netdev_rx_pool(&q->vn->ndev);
	while (q->rx->inflight < q->rx_limit && virtq_num_free(q->rx) > 0) {
		struct nbuf *nb = nbuf_alloc_prio(pool, NBUF_PRIO_RX);
		if (nb == NULL) {
			q->st.rx_no_buf++;
			break;
		}
		struct virtq_seg seg = { nb->base, nb->size };
		if (virtq_add(q->rx, &seg, 0, 1, nb) != K_OK) {
			nbuf_free(nb);
			break;
		}
		q->rx_added = true;
	}
}

static void vnet_rx_drop(struct vnet_pair *q)
{
	nbuf_free(q->rx_pkt);
	q->rx_pkt = q->rx_tail = NULL;
	q->rx_skip = q->rx_left;
	q->rx_left = 0;
}

/* Starts a frame with its first buffer (len bytes, header included). */
static void vnet_rx_first(struct vnet_pair *q, struct nbuf *nb, uint32_t len)
{
	const struct vnet_hdr *h = (const struct vnet_hdr *)nb->base;
	unsigned nbufs = q->vn->mrg ? h->num_buffers : 1;

	if (nbufs == 0 || nbufs > VNET_RX_MAX_BUFS) {
		q->st.rx_bad_nbufs++;
		nbuf_free(nb);
		return;
	}
	q->rx_pkt = q->rx_tail = nb;
	q->rx_left = nbufs - 1;
	if (len < NBUF_VNET_HDR_LEN + ETH_HDR_LEN) {
		q->st.rx_bad_len++;
		vnet_rx_drop(q);
		return;
	}
	if (h->gso_type != VNET_HDR_GSO_NONE) {
		/* GUEST_TSO4: a TCP/IPv4 packet of many segments, merged by
		 * the host, in up to VNET_RX_MAX_BUFS buffers; the stack takes
		 * it as one large segment. Anything else was never asked for
		 * (no GUEST_TSO6, GUEST_ECN or GUEST_UFO). */
		if (!q->vn->rx_tso4 || h->gso_type != VNET_HDR_GSO_TCPV4) {
			q->st.rx_bad_gso++;
			vnet_rx_drop(q);
			return;
		}
		q->st.rx_tso++;
	}
	nb->data = nb->base + NBUF_VNET_HDR_LEN;
	nb->len = nb->pkt_len = len - NBUF_VNET_HDR_LEN;
	if (q->vn->rx_csum && (h->flags & (VNET_HDR_F_DATA_VALID | VNET_HDR_F_NEEDS_CSUM))) {
		/* DATA_VALID: the device checked it; NEEDS_CSUM: the sender
		 * is on this host and the data never crossed a wire (5.1.6.4). */
		nb->flags |= NBUF_F_CSUM_VALID;
		q->st.rx_csum_valid++;
	}
}

/* Receives up to budget frames; returns how many buffers it took. */
static int vnet_rx(struct vnet_pair *q, unsigned budget)
{
	struct netdev *dev = &q->vn->ndev;
	unsigned frames = 0;
	int bufs = 0;
	uint32_t len;
	struct nbuf *nb;

	while (frames < budget && (nb = virtq_get_used(q->rx, &len)) != NULL) {
		bufs++;
		if (q->rx_skip) {
			q->rx_skip--;
			nbuf_free(nb);
			continue;
		}
		if (q->rx_pkt == NULL) {
			vnet_rx_first(q, nb, len);
		} else if (len == 0) {
			q->st.rx_bad_len++;
			nbuf_free(nb);
			q->rx_left--;
			vnet_rx_drop(q);
			continue;
		} else {
			nb->data = nb->base;
			nb->len = nb->pkt_len = len;
			q->rx_tail->next = nb;
			q->rx_tail = nb;
			q->rx_pkt->pkt_len += len;
			q->rx_left--;
		}
		if (q->rx_pkt == NULL || q->rx_left != 0)
			continue;
		struct nbuf *pkt = q->rx_pkt;
		q->rx_pkt = q->rx_tail = NULL;
		if (pkt->next)
			q->st.rx_merged++;
		q->st.rx_packets++;
		q->st.rx_bytes += pkt->pkt_len;
		frames++;
		netdev_input(dev, pkt);
	}
	return bufs;
}

/* ---- transmit -------------------------------------------------------------- */

/* Returns frames completed by the device, freed (done callbacks run). */
static int vnet_tx_reclaim(struct vnet_pair *q)
{
	int n = 0;
	struct nbuf *nb;
	while ((nb = virtq_get_used(q->tx, NULL)) != NULL) {
		nbuf_free(nb);
		n++;
	}
	q->st.tx_completed += (uint64_t)n;
	return n;
}

/* Fills the offload part of h from nb (data at the Ethernet header). */
static int vnet_tx_offload(struct vnet *vn, const struct nbuf *nb, struct vnet_hdr *h)
{
	size_t eth = nbuf_headroom(nb);
	if (nb->flags & NBUF_F_CSUM_PARTIAL) {
		if (!vn->tx_csum || nb->csum_start < eth ||
		    nb->csum_start - eth + (size_t)nb->csum_offset + 2 > nbuf_pkt_len(nb))
			return K_EINVAL;
		h->flags = VNET_HDR_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)(nb->csum_start - eth);
		h->csum_offset = nb->csum_offset;
	}
	if (nb->gso_size) {
		/* TSO (5.1.6.2): needs the partial checksum; hdr_len is the
		 * headers up to the end of the TCP header, which must be in
		 * the head segment. */
		size_t th = nb->csum_start;
		if (!vn->tso4 || !(nb->flags & NBUF_F_CSUM_PARTIAL) ||
		    th + 20 > nbuf_headroom(nb) + nb->len)
			return K_EINVAL;
		unsigned thl = (unsigned)(nb->base[th + 12] >> 4) * 4;
		if (thl < 20 || th + thl > nbuf_headroom(nb) + nb->len)
			return K_EINVAL;
		h->gso_type = VNET_HDR_GSO_TCPV4;
		h->gso_size = nb->gso_size;
		h->hdr_len = (uint16_t)(th - eth + thl);
	}
	return K_OK;
}

static int vnet_xmit(struct netdev *dev, struct nbuf *nb)
{
	struct vnet *vn = dev->priv;
	struct vnet_pair *q = vnet_pair_here(vn);
	struct virtq_seg segs[VNET_TX_MAX_SEGS];
	struct vnet_hdr h = { 0 };
	unsigned n = 0;
	size_t len = nbuf_pkt_len(nb);
	int rc;

	rc = vnet_tx_offload(vn, nb, &h);
	uint8_t *p = rc == K_OK ? nbuf_push(nb, sizeof h) : NULL;
	if (p == NULL)
		goto bad;
	memcpy(p, &h, sizeof h);
	for (struct nbuf *s = nb; s; s = s->next) {
		if (s->len == 0)
			continue;
		if (n == VNET_TX_MAX_SEGS)
			goto bad;
		segs[n].addr = s->data;
		segs[n].len = s->len;
		n++;
	}
	rc = virtq_add(q->tx, segs, n, 0, nb);
	if (rc == K_EAGAIN && vnet_tx_reclaim(q) > 0)
		rc = virtq_add(q->tx, segs, n, 0, nb);
	if (rc == K_EAGAIN) {
		/* Full: publish what is queued so the device drains it. */
		q->st.tx_ring_full++;
		vnet_kick(q);
		nbuf_free(nb);
		return K_EAGAIN;
	}
	if (rc != K_OK)
		goto bad;
	q->tx_added = true;
	q->st.tx_packets++;
	q->st.tx_bytes += len;
	if (h.flags & VNET_HDR_F_NEEDS_CSUM)
		q->st.tx_csum_offload++;
	if (h.gso_type != VNET_HDR_GSO_NONE)
		q->st.tx_tso++;
	loop_kick();
	return K_OK;
bad:
	q->st.tx_bad++;
	nbuf_free(nb);
	return K_EINVAL;
}

static void vnet_flush(struct netdev *dev)
{
	vnet_kick(vnet_pair_here(dev->priv));
}

/* The negotiated feature names, for the stack's net_if_features(). */
static void vnet_describe(struct netdev *dev, char *buf, size_t size)
{
	const struct vnet *vn = dev->priv;
	virtio_net_features_str(vn->vdev->features, buf, size);
}

static const struct netdev_ops vnet_ops = {
	.xmit = vnet_xmit,
	.flush = vnet_flush,
	.describe = vnet_describe,
};

/* ---- the poller -------------------------------------------------------------- */

static void vnet_cb(struct vnet_pair *q, bool on)
{
	if (on == q->cb_on)
		return;
	q->cb_on = on;
	if (!on) {
		virtq_disable_cb(q->rx);
		virtq_disable_cb(q->tx);
	}
}

static int vnet_poll(void *ctx)
{
	struct vnet_pair *q = ctx;
	int work;

	vnet_kick(q);
	work = vnet_tx_reclaim(q);
	work += vnet_rx(q, VNET_RX_BUDGET);
	vnet_rx_refill(q);
	vnet_kick(q);
	q->st.bad_device = q->rx->stats.bad_id + q->rx->stats.bad_len + q->rx->stats.bad_idx +
			   q->tx->stats.bad_id + q->tx->stats.bad_len + q->tx->stats.bad_idx;
	if (work) {
		q->st.polls++;
		vnet_cb(q, false);
		return work;
	}
	if (q->rx->inflight == 0 && !timer_armed(&q->timer))
		timer_arm_in(&q->timer, VNET_REFILL_RETRY_NS);   /* pool was empty */
	if (!q->vn->irq) {
		if (!timer_armed(&q->timer))
			timer_arm_in(&q->timer, VNET_POLL_NS);
		return 0;
	}
	/* Idle: ask for an interrupt, then look once more (2.7.10). */
	q->cb_on = true;
	bool quiet = virtq_enable_cb(q->rx);
	if (q->tx->inflight)
		quiet = virtq_enable_cb(q->tx) && quiet;
	return quiet ? 0 : 1;
}

/* ---- set-up --------------------------------------------------------------- */

/* Runs one control command (5.1.6.5) and waits for the device's ack. */
static int vnet_ctrl(struct vnet *vn, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
	uint8_t *b = vn->ctrl_buf;
	if (vn->ctrl == NULL)
		return K_ENOTSUP;
	b[0] = cls;
	b[1] = cmd;
	memcpy(b + 2, data, len);
	b[VNET_CTRL_ACK_OFF] = 0xff;
	struct virtq_seg segs[3] = { { b, 2 }, { b + 2, len }, { b + VNET_CTRL_ACK_OFF, 1 } };
	int rc = virtq_add(vn->ctrl, segs, 2, 1, b);
	if (rc != K_OK)
		return rc;
	virtq_kick(vn->ctrl);
	uint64_t deadline = time_now_ns() + VNET_CTRL_TIMEOUT_NS;
	while (virtq_get_used(vn->ctrl, NULL) != b) {
		if (virtq_is_broken(vn->ctrl) || time_now_ns() > deadline) {
			vn->ctrl = NULL;   /* the device may still own ctrl_buf */
			return K_ETIMEDOUT;
		}
		arch_relax();
	}
	return b[VNET_CTRL_ACK_OFF] == 0 ? K_OK : K_EIO;
}

static int vnet_ctrl_u8(struct vnet *vn, uint8_t cls, uint8_t cmd, uint8_t v)
{
	return vnet_ctrl(vn, cls, cmd, &v, 1);
}

void virtio_net_features_str(uint64_t f, char *buf, size_t size)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ VIRTIO_NET_F_CSUM, "CSUM" }, { VIRTIO_NET_F_GUEST_CSUM, "GUEST_CSUM" },
		{ VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, "CTRL_GUEST_OFFLOADS" },
		{ VIRTIO_NET_F_MTU, "MTU" }, { VIRTIO_NET_F_MAC, "MAC" },
		{ VIRTIO_NET_F_GUEST_TSO4, "GUEST_TSO4" }, { VIRTIO_NET_F_GUEST_TSO6, "GUEST_TSO6" },
		{ VIRTIO_NET_F_GUEST_ECN, "GUEST_ECN" }, { VIRTIO_NET_F_GUEST_UFO, "GUEST_UFO" },
		{ VIRTIO_NET_F_HOST_TSO4, "HOST_TSO4" }, { VIRTIO_NET_F_HOST_TSO6, "HOST_TSO6" },
		{ VIRTIO_NET_F_HOST_ECN, "HOST_ECN" }, { VIRTIO_NET_F_HOST_UFO, "HOST_UFO" },
		{ VIRTIO_NET_F_MRG_RXBUF, "MRG_RXBUF" }, { VIRTIO_NET_F_STATUS, "STATUS" },
		{ VIRTIO_NET_F_CTRL_VQ, "CTRL_VQ" }, { VIRTIO_NET_F_CTRL_RX, "CTRL_RX" },
		{ VIRTIO_NET_F_CTRL_VLAN, "CTRL_VLAN" }, { VIRTIO_NET_F_GUEST_ANNOUNCE, "GUEST_ANNOUNCE" },
		{ VIRTIO_NET_F_MQ, "MQ" }, { VIRTIO_NET_F_CTRL_MAC_ADDR, "CTRL_MAC_ADDR" },
		{ VIRTIO_F_INDIRECT_DESC, "INDIRECT_DESC" }, { VIRTIO_F_EVENT_IDX, "EVENT_IDX" },
		{ VIRTIO_F_VERSION_1, "VERSION_1" }, { VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM" },
		{ VIRTIO_F_RING_PACKED, "RING_PACKED" }, { VIRTIO_F_IN_ORDER, "IN_ORDER" },
		{ VIRTIO_NET_F_SPEED_DUPLEX, "SPEED_DUPLEX" },
	};
	size_t n = 0;
	if (size)
		buf[0] = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0] && n < size; i++)
		if ((f >> names[i].bit) & 1)
			n += (size_t)ksnprintf(buf + n, size - n, "%s%s", n ? " " : "", names[i].name);
}

static bool vnet_link_up(struct vnet *vn)
{
	if (!vnet_has(vn, VIRTIO_NET_F_STATUS))
		return true;                    /* 5.1.4.2: assume up */
	uint16_t status;
	virtio_config_read(vn->vdev, VNET_CFG_STATUS, &status, sizeof status);
	return status & VNET_S_LINK_UP;
}

/* Reads MAC, queue pairs and MTU from the device configuration (5.1.4). */
static void vnet_read_config(struct vnet *vn)
{
	struct netdev *dev = &vn->ndev;
	if (vnet_has(vn, VIRTIO_NET_F_MAC)) {
		virtio_config_read(vn->vdev, VNET_CFG_MAC, dev->mac, ETH_ALEN);
	} else {
		random_bytes(dev->mac, ETH_ALEN);   /* 5.1.5: the driver picks one */
		dev->mac[0] = (uint8_t)((dev->mac[0] & 0xfe) | 0x02);
	}
	vn->max_pairs = 1;
	if (vnet_has(vn, VIRTIO_NET_F_MQ)) {
		uint16_t mp;
		virtio_config_read(vn->vdev, VNET_CFG_MAX_PAIRS, &mp, sizeof mp);
		if (mp >= 1 && mp <= 0x8000)    /* 5.1.4.1 */
			vn->max_pairs = mp;
	}
	dev->mtu = ETH_MTU;
	if (vnet_has(vn, VIRTIO_NET_F_MTU)) {
		uint16_t mtu;
		virtio_config_read(vn->vdev, VNET_CFG_MTU, &mtu, sizeof mtu);
		if (mtu >= 68 && mtu < dev->mtu)    /* receive buffers hold 1500 */
			dev->mtu = mtu;
	}
}

static int vnet_setup_queues(struct vnet *vn)
{
	struct virtio_dev *d = vn->vdev;
	vn->npairs = 1;
	for (unsigned i = 0; i < vn->npairs; i++) {
		struct vnet_pair *q = &vn->pairs[i];
		q->vn = vn;
		int rc = virtio_queue_setup(d, 2 * i, VNET_RING_WANT, &q->rx);
		if (rc == K_OK)
			rc = virtio_queue_setup(d, 2 * i + 1, VNET_RING_WANT, &q->tx);
		if (rc != K_OK)
			return rc;
	}
	if (vnet_has(vn, VIRTIO_NET_F_CTRL_VQ)) {
		unsigned idx = vnet_has(vn, VIRTIO_NET_F_MQ) ? 2u * vn->max_pairs : 2u;
		vn->ctrl_buf = page_alloc(1);
		if (vn->ctrl_buf == NULL || virtio_queue_setup(d, idx, VNET_CTRL_RING, &vn->ctrl) != K_OK) {
			log_warn("virtio-net: %s: no control queue; defaults kept", d->name);
			vn->ctrl = NULL;
		}
	}
	/* Interrupts: one per pair (RX and TX share it), on this core. */
	vn->irq = true;
	for (unsigned i = 0; i < vn->npairs && vn->irq; i++) {
		struct vnet_pair *q = &vn->pairs[i];
		if (virtio_queue_irq(d, q->rx->index, vnet_irq, q) != K_OK ||
		    virtio_queue_irq(d, q->tx->index, vnet_irq, q) != K_OK)
			vn->irq = false;
	}
	return K_OK;
}

static void vnet_configure_device(struct vnet *vn)
{
	struct virtio_dev *d = vn->vdev;
	int rc;
	if (vnet_has(vn, VIRTIO_NET_F_MQ)) {
		uint16_t pairs = (uint16_t)vn->npairs;
		rc = vnet_ctrl(vn, VNET_CTRL_MQ, VNET_CTRL_MQ_VQ_PAIRS_SET, &pairs, sizeof pairs);
		if (rc != K_OK)
			log_warn("virtio-net: %s: setting %u queue pair(s) failed (%s)", d->name,
				 vn->npairs, kiln_strerror(rc));
	}
	if (vnet_has(vn, VIRTIO_NET_F_CTRL_RX)) {
		/* The stack wants its unicast, broadcast and (for IPv6 later)
		 * multicast; filtering the rest in the device saves work. */
		rc = vnet_ctrl_u8(vn, VNET_CTRL_RX, VNET_CTRL_RX_PROMISC, 0);
		if (rc == K_OK)
			rc = vnet_ctrl_u8(vn, VNET_CTRL_RX, VNET_CTRL_RX_ALLMULTI, 1);
		if (rc != K_OK)
			log_warn("virtio-net: %s: receive filter not set (%s)", d->name,
				 kiln_strerror(rc));
	}
}

/* 5.1.3.1: TSO needs the checksum offload of its direction; and Kiln
 * takes large received packets only in merged buffers, not in 64 KiB
 * ones posted up front. */
static uint64_t vnet_fix_features(uint64_t f)
{
	if (!(f & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
		f &= ~(VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6));
	if (!(f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)) || !(f & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		f &= ~VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
	return f;
}

static int vnet_probe(struct virtio_dev *d)
{
	if (vnet_ndevs == VNET_MAX_DEVS) {
		log_warn("virtio-net: %s ignored: more than %d devices", d->name, VNET_MAX_DEVS);
		return K_ENOSPC;
	}
	struct vnet *vn = &vnet_devs[vnet_ndevs];
	memset(vn, 0, sizeof *vn);
	vn->vdev = d;
	d->drv_priv = vn;
	vn->mrg = vnet_has(vn, VIRTIO_NET_F_MRG_RXBUF);
	vn->rx_csum = vnet_has(vn, VIRTIO_NET_F_GUEST_CSUM);
	vn->tx_csum = vnet_has(vn, VIRTIO_NET_F_CSUM);
	vn->tso4 = vnet_has(vn, VIRTIO_NET_F_HOST_TSO4);
	vn->rx_tso4 = vnet_has(vn, VIRTIO_NET_F_GUEST_TSO4);
	vnet_read_config(vn);

	int rc = vnet_setup_queues(vn);
	if (rc != K_OK)
		return rc;
	virtio_driver_ok(d);
	vnet_configure_device(vn);

	struct netdev *dev = &vn->ndev;
	dev->ops = &vnet_ops;
	dev->priv = vn;
	dev->name = d->name;
	dev->caps = NETDEV_CAP_SG | (vn->rx_csum ? NETDEV_CAP_RX_CSUM : 0) |
		    (vn->tx_csum ? NETDEV_CAP_TX_CSUM : 0) | (vn->tso4 ? NETDEV_CAP_TSO4 : 0);
	vnet_ndevs++;
	rc = netstack_attach(dev);
	if (rc != K_OK) {
		log_error("virtio-net: %s: cannot attach to the stack (%s)", d->name, kiln_strerror(rc));
		return rc;
	}
	struct nbuf_pool *pool = netdev_rx_pool(dev);
	if (!vn->mrg && pool->data_size < (uint32_t)NBUF_VNET_HDR_LEN + ETH_HDR_LEN + dev->mtu) {
		log_error("virtio-net: %s: %u-byte buffers cannot hold a frame without MRG_RXBUF",
			  d->name, pool->data_size);
		return K_ENOTSUP;
	}
	for (unsigned i = 0; i < vn->npairs; i++) {
		struct vnet_pair *q = &vn->pairs[i];
		/* Leave half the pool for transmit, reassembly and queues. */
		q->rx_limit = q->rx->num < pool->count / 2 ? q->rx->num : pool->count / 2;
		vnet_rx_refill(q);
		vnet_kick(q);
		timer_init(&q->timer, vnet_timer, q);
		q->poller.fn = vnet_poll;
		q->poller.ctx = q;
		q->poller.name = "virtio-net";
		loop_add_poller(&q->poller);
	}

	char fs[384];
	virtio_net_features_str(d->features, fs, sizeof fs);
	const uint8_t *m = dev->mac;
	log_info("virtio-net: %s: %02x:%02x:%02x:%02x:%02x:%02x mtu %u, link %s, %u of %u queue "
		 "pair(s), rx %u/%u tx %u, %s", d->name, m[0], m[1], m[2], m[3], m[4], m[5],
		 dev->mtu, vnet_link_up(vn) ? "up" : "down", vn->npairs, vn->max_pairs,
		 vn->pairs[0].rx->inflight, vn->pairs[0].rx->num, vn->pairs[0].tx->num,
		 vn->irq ? "interrupts" : "polled (no interrupt path)");
	log_info("virtio-net: %s: features %s", d->name, fs);
	return K_OK;
}

/* ---- telemetry --------------------------------------------------------------- */

unsigned virtio_net_count(void) { return vnet_ndevs; }

struct netdev *virtio_net_netdev(unsigned i)
{
	return i < vnet_ndevs ? &vnet_devs[i].ndev : NULL;
}

int virtio_net_get_info(unsigned i, struct virtio_net_info *out)
{
	if (i >= vnet_ndevs)
		return K_ENODEV;
	struct vnet *vn = &vnet_devs[i];
	memset(out, 0, sizeof *out);
	out->name = vn->vdev->name;
	memcpy(out->mac, vn->ndev.mac, ETH_ALEN);
	out->mtu = vn->ndev.mtu;
	out->max_pairs = vn->max_pairs;
	out->pairs = (uint16_t)vn->npairs;
	out->rx_size = vn->pairs[0].rx->num;
	out->tx_size = vn->pairs[0].tx->num;
	out->features = vn->vdev->features;
	out->link_up = vnet_link_up(vn);
	out->irq = vn->irq;
	return K_OK;
}

int virtio_net_get_stats(unsigned i, struct virtio_net_stats *out)
{
	if (i >= vnet_ndevs)
		return K_ENODEV;
	struct vnet *vn = &vnet_devs[i];
	memset(out, 0, sizeof *out);
	for (unsigned k = 0; k < vn->npairs; k++) {
		const struct vnet_pair *q = &vn->pairs[k];
		const uint64_t *src = (const uint64_t *)&q->st;
		uint64_t *dst = (uint64_t *)out;
		for (size_t w = 0; w < offsetof(struct virtio_net_stats, rx_posted) / 8; w++)
			dst[w] += src[w];
		out->rx_posted += q->rx->inflight;
		out->tx_inflight += q->tx->inflight;
	}
	return K_OK;
}

static struct virtio_driver vnet_driver = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = VNET_FEATURES,
	.fix_features = vnet_fix_features,
	.probe = vnet_probe,
};

static void virtio_net_init(void)
{
	virtio_register_driver(&vnet_driver);
}
INIT_EARLY(virtio_net_init);
