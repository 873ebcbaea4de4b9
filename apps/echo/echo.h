/*
 * echo.h - what the echo app's files share: each service starts itself
 * on an interface once the network is up (main.c calls them from
 * net_on_up). Each returns K_OK or the error that stopped it.
 */
#ifndef APPS_ECHO_ECHO_H
#define APPS_ECHO_ECHO_H

#include <kiln/net.h>

#define ECHO_PORT 7         /* RFC 862, TCP and UDP */
#define DISCARD_PORT 9      /* RFC 863 */
#define CHARGEN_PORT 19     /* RFC 864 */

int udp_echo_start(struct net_if *nif);
int tcp_services_start(struct net_if *nif);

#endif
