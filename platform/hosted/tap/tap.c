/*
 * tap.c - a Linux TAP device as a Kiln netdev.
 *
 * Interface: tap.h. The stack sees the same narrow netdev a virtio-net
 * device gives it (after Solo5's tap backend): xmit a chain, receive
 * frames through netdev_input().
 *
 * IMPLEMENTATION NOTES
 *  - With IFF_VNET_HDR (and TUNSETVNETHDRSZ 12) every frame carries the
 *    12-byte virtio-net header in front, in host byte order, exactly as
 *    a virtio-net device writes it. On receive, read() puts the header at
 *    the buffer's base and the frame at NBUF_RX_HEADROOM - the layout the
 *    stack expects from any driver - with no copy. VIRTIO_NET_HDR_F_
 *    NEEDS_CSUM or DATA_VALID from the host means the L4 checksum needs
 *    no check (the data never left this machine): NBUF_F_CSUM_VALID.
 *    GSO is never enabled (TUNSETOFFLOAD 0), so a GSO frame is dropped.
 *  - On transmit the header goes in its own iovec, so borrowed head
 *    segments need no headroom; NBUF_F_CSUM_PARTIAL becomes NEEDS_CSUM
 *    with csum_start counted from the Ethernet header, and Linux finishes
 *    the checksum (NETDEV_CAP_TX_CSUM). Without vnet the stack computes
 *    checksums itself.
 *  - Transmission is immediate: writev() copies the frame into the
 *    kernel, so the chain is freed (its done callbacks run) on return.
 *    A full kernel queue (EAGAIN) drops the frame, counted, as a full
 *    ring would.
 *  - Receive takes buffers from the interface's pool; with the pool
 *    empty the frame is read into scratch and dropped, counted, so the
 *    descriptor never stays readable for ever.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <kiln/err.h>
#include <kiln/log.h>

#include "hosted_rt.h"
#include "net/net_priv.h"
#include "net/netstack.h"
#include "tap.h"

#define TAP_RX_BUDGET 64           /* frames per poll: bounded work per pass */
#define TAP_MAX_IOV 64
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0

static uint8_t tap_scratch[65536 + NBUF_VNET_HDR_LEN];

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static int tap_xmit(struct netdev *dev, struct nbuf *nb)
{
	struct tap_dev *t = dev->priv;
	struct iovec iov[TAP_MAX_IOV];
	uint8_t vh[NBUF_VNET_HDR_LEN] = { 0 };
	unsigned n = 0;
	int ret = K_OK;

	if (t->vnet) {
		if (nb->flags & NBUF_F_CSUM_PARTIAL) {
			vh[0] = VNET_F_NEEDS_CSUM;
			le16(vh + 6, (uint16_t)(nb->csum_start - nbuf_headroom(nb)));
			le16(vh + 8, nb->csum_offset);
		}
		iov[n++] = (struct iovec){ vh, sizeof vh };
	}
	unsigned segs = nbuf_segments(nb);
	if (segs + n <= TAP_MAX_IOV) {
		for (struct nbuf *s = nb; s; s = s->next)
			if (s->len)
				iov[n++] = (struct iovec){ s->data, s->len };
	} else {
		size_t len = nbuf_pkt_len(nb);
		if (len > sizeof tap_scratch) {
			t->stats.tx_errors++;
			nbuf_free(nb);
			return K_EMSGSIZE;
		}
		nbuf_copy_out(nb, 0, tap_scratch, len);
		iov[n++] = (struct iovec){ tap_scratch, len };
		t->stats.tx_linear++;
	}
	if (writev(t->fd, iov, (int)n) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			t->stats.tx_again++;
			ret = K_EAGAIN;
		} else {
			t->stats.tx_errors++;
			ret = K_EIO;
		}
	}
	nbuf_free(nb);
	return ret;
}

static const struct netdev_ops tap_ops = { .xmit = tap_xmit, .flush = NULL };

/* One received frame, or -1 when nothing is waiting. */
static int tap_rx_one(struct tap_dev *t)
{
	struct net_if *nif = t->dev.nif;
	struct nbuf *nb = nbuf_alloc_prio(nif->pool, NBUF_PRIO_RX);
	size_t hdr = t->vnet ? NBUF_VNET_HDR_LEN : 0;
	uint8_t *buf = nb ? nb->base + NBUF_RX_HEADROOM - hdr : tap_scratch;
	size_t room = nb ? nb->size - (NBUF_RX_HEADROOM - hdr) : sizeof tap_scratch;

	ssize_t r = read(t->fd, buf, room);
	if (r < 0) {
		nbuf_free(nb);
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			klog(LOG_WARN, "tap: %s: read failed (errno %d)", t->ifname, errno);
		return -1;
	}
	if (!nb) {
		t->stats.rx_no_buf++;
		return 1;
	}
	/* A frame that filled the buffer may have been cut short. */
	if ((size_t)r < hdr + ETH_HDR_LEN || (size_t)r == room) {
		t->stats.rx_bad++;
		nbuf_free(nb);
		return 1;
	}
	uint16_t flags = 0;
	if (t->vnet) {
		if (buf[1] != VNET_GSO_NONE) {
			t->stats.rx_bad++;
			nbuf_free(nb);
			return 1;
		}
		if (buf[0] & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) {
			flags |= NBUF_F_CSUM_VALID;
			if (buf[0] & VNET_F_NEEDS_CSUM)
				t->stats.rx_csum_partial++;
		}
	}
	nb->data = nb->base + NBUF_RX_HEADROOM;
	nb->len = nb->pkt_len = (uint32_t)((size_t)r - hdr);
	nb->flags = flags;
	netdev_input(&t->dev, nb);
	return 1;
}

static int tap_poll(void *ctx)
{
	struct tap_dev *t = ctx;
	int work = 0;

	while (work < TAP_RX_BUDGET && tap_rx_one(t) > 0)
		work++;
	return work;
}

int tap_open(struct tap_dev *t, const char *ifname, const uint8_t mac[6], bool vnet)
{
	struct ifreq ifr;
	size_t n = strlen(ifname);

	memset(t, 0, sizeof *t);
	t->fd = -1;
	if (n == 0 || n >= sizeof t->ifname || n >= IFNAMSIZ)
		return K_EINVAL;
	memcpy(t->ifname, ifname, n + 1);
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		klog(LOG_ERROR, "tap: cannot open /dev/net/tun (errno %d)", errno);
		return K_ENODEV;
	}
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, ifname, n);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		klog(LOG_ERROR, "tap: %s: TUNSETIFF failed (errno %d)", ifname, errno);
		close(fd);
		return K_ENODEV;
	}
	if (vnet) {
		int sz = NBUF_VNET_HDR_LEN;
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
			klog(LOG_WARN, "tap: %s: no 12-byte vnet header (errno %d), plain frames",
			     ifname, errno);
			close(fd);
			return tap_open(t, ifname, mac, false);
		}
	}
	t->fd = fd;
	t->vnet = vnet;
	t->dev.ops = &tap_ops;
	t->dev.priv = t;
	t->dev.name = t->ifname;
	memcpy(t->dev.mac, mac, ETH_ALEN);
	t->dev.mtu = ETH_MTU;
	t->dev.caps = NETDEV_CAP_SG | (vnet ? NETDEV_CAP_TX_CSUM : 0);
	return K_OK;
}

int tap_start(struct tap_dev *t)
{
	int ret = netstack_attach(&t->dev);
	if (ret < 0)
		return ret;
	t->poller = (struct poller){ .fn = tap_poll, .ctx = t, .name = "tap" };
	loop_add_poller(&t->poller);
	return hosted_loop_add_fd(t->fd);
}
