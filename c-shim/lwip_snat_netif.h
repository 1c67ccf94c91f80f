/**
 * @file
 * lwip-snat on a prebuilt lwIP that has no LWIP_HOOK_IP4_INPUT compiled in (Arduino-ESP32,
 * vendor SDKs, Debian's liblwip): a netif input function that runs the NAT before lwIP's input.
 *
 * Give it as the input function of every netif whose packets the NAT must see:
 *
 *   netif_add(&wan, &addr, &mask, &gw, state, ethernetif_init, lwip_snat_netif_input);
 *
 * and compile lwip_snat_hook.c with LWIP_SNAT_NETIF_INPUT defined to 1 (lwipopts.h or a
 * compile definition), so that a datagram the NAT reassembled is re-injected through
 * lwip_snat_ip4_input() and takes the same path. Everything else is as with the hook.
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */
#ifndef LWIP_SNAT_NETIF_H
#define LWIP_SNAT_NETIF_H

#include "lwip/err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pbuf;
struct netif;

/**
 * netif->input for a driver that calls it from its own thread or interrupt-free loop, as
 * tcpip_input() expects: with NO_SYS=0 it takes the core lock (LWIP_TCPIP_CORE_LOCKING; else
 * it posts through tcpip_inpkt()); with NO_SYS=1 it runs directly. An Ethernet netif's IPv4
 * frames lose their Ethernet header and go to lwip_snat_ip4_input(), as ethernet_input() would
 * pass them to ip4_input(); ARP and other frames go to ethernet_input() unchanged. An IP-only
 * netif's packets go to lwip_snat_ip4_input().
 */
err_t lwip_snat_netif_input(struct pbuf *p, struct netif *inp);

/**
 * ip4_input() as lwIP runs it with LWIP_HOOK_IP4_INPUT: the NAT's hook first, then ip4_input()
 * if the hook passed the packet. In lwIP's core context; p->payload at the IPv4 header.
 */
err_t lwip_snat_ip4_input(struct pbuf *p, struct netif *inp);

#ifdef __cplusplus
}
#endif

#endif /* LWIP_SNAT_NETIF_H */
