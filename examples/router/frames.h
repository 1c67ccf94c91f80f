/**
 * @file
 * How frames from a tap reach the NAT in the router example.
 *
 * Debian's liblwip (2.1.3) is built without LWIP_HOOK_IP4_INPUT: a netif whose input is
 * tcpip_input() ends in ethernet_input() and ip4_input() without ever asking the NAT. So the
 * router gives each tap netif router_netif_input() as its input function: under the core lock
 * (as tcpip_input() does with LWIP_TCPIP_CORE_LOCKING_INPUT), IPv4 frames lose their Ethernet
 * header and go to router_ip4_input() -- the hook first, ip4_input() only if the hook passed the
 * packet, which is exactly what ip4_input() does when LWIP_HOOK_IP4_INPUT is compiled in. ARP
 * and IPv6 frames take lwIP's ethernet_input() unchanged.
 *
 * This header is also force-included (-include) when the shim is compiled, so that a datagram
 * the NAT reassembled is re-injected through router_ip4_input() (LWIP_SNAT_REINJECT) and takes
 * the same hooked path as every other packet.
 */
#ifndef LWIP_SNAT_ROUTER_FRAMES_H
#define LWIP_SNAT_ROUTER_FRAMES_H

#include "lwip/err.h"

struct pbuf;
struct netif;

/** netif->input of the tap netifs (called by each tap's reader thread): takes the core lock. */
err_t router_netif_input(struct pbuf *p, struct netif *inp);

/** An IPv4 packet (p->payload at the IP header) in lwIP's core context: hook, then ip4_input(). */
err_t router_ip4_input(struct pbuf *p, struct netif *inp);

#define LWIP_SNAT_REINJECT(p, inp) router_ip4_input((p), (inp))

#endif /* LWIP_SNAT_ROUTER_FRAMES_H */
