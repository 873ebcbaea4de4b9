/*
 * tap.h - a Linux TAP device as a Kiln netdev (the hosted runner's NIC).
 *
 * tap_open() attaches to (or creates) the TAP interface ifname and fills
 * a struct netdev the stack can use; tap_start() then hands it to
 * netstack_attach() and registers the receive poller and the descriptor
 * with the hosted loop. Frames are read straight into pool buffers and
 * written with writev() from the chain, so the stack's zero-copy rules
 * hold on this backend too.
 */
#ifndef KILN_HOSTED_TAP_H
#define KILN_HOSTED_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include <kiln/loop.h>

#include "net/netdev.h"

struct tap_stats {
	uint64_t rx_no_buf;        /* pool empty: frame read and dropped */
	uint64_t rx_bad;           /* short, truncated or GSO frame dropped */
	uint64_t rx_csum_partial;  /* host left the checksum to us (trusted) */
	uint64_t tx_again;         /* the kernel queue was full */
	uint64_t tx_errors;
	uint64_t tx_linear;        /* chains too long for one writev, copied */
};

struct tap_dev {
	struct netdev dev;
	int fd;
	bool vnet;                 /* IFF_VNET_HDR: checksum offload */
	char ifname[16];
	struct poller poller;
	struct tap_stats stats;
};

/*
 * Opens /dev/net/tun as the TAP interface ifname (IFF_TAP|IFF_NO_PI,
 * plus IFF_VNET_HDR when vnet), non-blocking. mac is the stack's address
 * on the link (not the host interface's). K_OK, K_ENODEV when the TUN
 * driver is missing or refuses (no permission), K_EINVAL for a bad name.
 */
int tap_open(struct tap_dev *t, const char *ifname, const uint8_t mac[6], bool vnet);
/* Attaches the stack and joins the loop. K_OK or netstack_attach's error. */
int tap_start(struct tap_dev *t);

#endif
