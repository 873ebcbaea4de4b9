/*
 * netstack.h - bringing an interface up: where drivers meet the stack.
 *
 * A NIC driver (virtio-net in the guest, the TAP device when hosted)
 * fills in its struct netdev and calls netstack_attach() once the device
 * can transmit. The stack then owns the interface's life on this core:
 *   - it carves the per-core packet pools (dev->nif->pool for buffers,
 *     dev->nif->refs for borrowed-span descriptors); the driver takes its
 *     receive buffers from dev->nif->pool after attach returns;
 *   - it configures the address from the command line (ip=ADDR/PREFIX,
 *     gw=ADDR, dns=ADDR) or, when none is given, starts the DHCP client;
 *   - it drives the protocol timers from the run loop (one struct timer,
 *     re-armed to net_next_deadline()), so an idle interface costs no
 *     wake-ups;
 *   - it makes the first attached interface the default (net_if_default).
 *
 * Transmit batching: a driver's xmit op queues the frame and calls
 * loop_kick(); the driver's own poller notifies the device (one kick) at
 * the start of the next pass, before it reaps completions and receives.
 * So a whole pass of responses costs one notification.
 */
#ifndef NET_NETSTACK_H
#define NET_NETSTACK_H

#include "netdev.h"

/* Attaches dev to a new interface on this core. K_OK, K_ENOMEM when the
 * pools cannot be carved, K_EBUSY if dev is already attached. */
int netstack_attach(struct netdev *dev);

#endif
