/**
 * @file
 * lwip-snat glue for lwIP: the IPv4 input hook and the periodic timer.
 *
 * The NAT itself is the Rust library declared in lwip_snat.h (generated, in include/). This
 * file and lwip_snat_hook.c connect it to lwIP: lwIP calls lwip_snat_ip4_input_hook() from
 * ip4_input() for every IPv4 packet, the hook works out the packet's route exactly as
 * ip4_input() will, lets the NAT translate it in place, and acts on the verdict. A cyclic
 * sys_timeout() expires idle mappings.
 *
 * Basic usage:
 *
 * In lwipopts.h (IP_FORWARD 1 is required as well):
 *
 *   #define LWIP_HOOK_FILENAME          "lwip_snat_hook.h"
 *   #define LWIP_HOOK_IP4_INPUT(p, inp) lwip_snat_ip4_input_hook(p, inp)
 *
 * In your code, in lwIP's core context, once the netifs exist (here: masquerade everything
 * that leaves by the netif "wan"):
 *
 *   lwip_snat_start(NULL);
 *   lwip_snat_rule_add(&(struct lwip_snat_rule){ LWIP_SNAT_RULE_OUTBOUND, 0, netif_get_index(&wan) });
 *
 * Optional where lwIP forwards what the hook routed (lwIP 2.1, LWIP_SNAT_FORWARD 0), saves each
 * forwarded packet lwIP's second route lookup (ip4_forward() asks again for the route the hook
 * already worked out; the hook answers with it):
 *
 *   #define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) lwip_snat_ip4_route_src(src, dest)
 *   #define LWIP_SNAT_ROUTE_HOOKS_CACHEABLE 1
 *
 * (if the firmware has its own route hook, call lwip_snat_ip4_route_src() first in it and use
 * its answer when it is not NULL; the second line only if that hook's answers are cacheable,
 * see LWIP_SNAT_ROUTE_HOOKS_CACHEABLE below). Where the hook forwards itself (lwIP 2.2, below)
 * leave both out: the route hook would then cost each packet lwIP sends itself more than it saves.
 *
 * With lwIP 2.2 the hook forwards the packets it routed itself, so that ip4_input() and
 * ip4_forward() do not check and route them a second time (LWIP_SNAT_FORWARD: 1 by default
 * when the library has its hook-forward feature; lwipopts.h may define it 0 or 1).
 *
 * Address changes (DHCP renewals, netif_set_ipaddr, a netif going down, losing its link or
 * being removed) are noticed by the hook and the timer, and the mappings of that netif are
 * dropped. With LWIP_NETIF_EXT_STATUS_CALLBACK the shim registers a netif callback and notices
 * changes made through lwIP's netif API when they are made, and the hook no longer looks per
 * packet (the timer still does, for fields written directly). A firmware's LWIP_HOOK_IP4_CANFORWARD is honoured as ip4_forward() does; it may be
 * called before ip4_input() sets ip_data, so it must decide on its arguments alone (with
 * LWIP_SNAT_FORWARD, once per forwarded packet, as lwIP alone calls it).
 *
 * Chained pbufs (PBUF_POOL) are translated in place when the first pbuf holds the IP and
 * transport headers (a PBUF_POOL_BUFSIZE of the link header + 40 bytes covers TCP without
 * options, + 120 every IPv4 and TCP option); ICMP errors, fragments and shorter first pbufs are copied into one pbuf,
 * and lwip_snat_hook_copies() counts those copies.
 *
 * The router's own services are never shadowed: lwip_snat_start() registers a port check that
 * answers from lwIP's pcb lists, so inside hosts never get an external port an lwIP pcb holds
 * (DHCP client, DNS, listeners, sockets) and packets for those ports reach lwIP.
 *
 * Options (define them in lwipopts.h): LWIP_SNAT_TMR_INTERVAL, LWIP_SNAT_NETIF_SLOTS and
 * LWIP_SNAT_ROUTER_ICMP_ID (below); LWIP_SNAT_REINJECT(p, inp), an err_t expression that feeds a
 * datagram back to lwIP (default ip4_input(p, inp)), and LWIP_SNAT_RELEASE_PBUF_LEN, the pbuf
 * size for the fragments handed back on LWIP_SNAT_RELEASE (default 1500), both in
 * lwip_snat_hook.c.
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */

/**
 * @defgroup lwip_snat SNAT (lwip-snat)
 * Source NAT for IPv4 forwarding: the lwIP glue of the lwip-snat library.
 */
#ifndef LWIP_SNAT_HOOK_H
#define LWIP_SNAT_HOOK_H

#include "lwip_snat.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pbuf;
struct netif;
struct ip4_addr;

/**
 * 1 when lwIP has no LWIP_HOOK_IP4_INPUT and the netifs use lwip_snat_netif_input()
 * (lwip_snat_netif.h): reassembled datagrams are then re-injected through lwip_snat_ip4_input().
 */
#ifndef LWIP_SNAT_NETIF_INPUT
#define LWIP_SNAT_NETIF_INPUT 0
#endif

/**
 * LWIP_DBG_ON logs, through LWIP_DEBUGF (so only with LWIP_DEBUG defined), each packet the NAT
 * drops with its reason name, protocol, addresses and ports, each mapping created (with the
 * endpoints after translation), the mappings each timer run expired, and each ICMP error the
 * shim sends. Off by default, like every lwIP module's *_DEBUG switch: no code then.
 */
#ifndef LWIP_SNAT_DEBUG
#define LWIP_SNAT_DEBUG LWIP_DBG_OFF
#endif

/** Interval of the timer that expires idle mappings, in milliseconds (like IP_TMR_INTERVAL) */
#ifndef LWIP_SNAT_TMR_INTERVAL
#define LWIP_SNAT_TMR_INTERVAL 1000
#endif

/**
 * Netif indices (1..LWIP_SNAT_NETIF_SLOTS) whose address the shim watches, 4 bytes each:
 * a change drops that netif's mappings. Call lwip_snat_netif_changed() yourself for netifs
 * with higher indices.
 */
#ifndef LWIP_SNAT_NETIF_SLOTS
#define LWIP_SNAT_NETIF_SLOTS 8
#endif

/**
 * 1: the hook sends a packet it routed itself out of its route, as ip4_input() and
 * ip4_forward() would (their header checks and checksum, TTL decrement, checksum adjust and
 * offload handling, IP and MIB2 counters, netif->output()), and returns 1; everything else
 * (TTL 1, over the MTU, a bad header, what lwIP delivers or drops) goes on to ip4_input() as
 * with 0. The default is 1 with lwIP 2.2 and LWIP_HOOK_IP4_INPUT, whose ip4_forward() this
 * reproduces, 0 otherwise. Define it 0 where ip4_forward() is patched or must see every packet.
 * (Defined in lwip_snat_hook.c, which sees lwIP's version.)
 */

/**
 * 1: the hook passes a packet no rule, session or port forward concerns on the NAT's per-netif
 * facts (lwip_snat_netif_concerns()) without calling the core, before it works out the route
 * and again after; 0: the core makes the same test on every packet the hook routes, with the
 * same verdicts and counts (docs/hook-path.md says where they differ), in less flash and more
 * instructions. The default is 1 when the library has the fast-path feature, 0 otherwise.
 * (Defined in lwip_snat_hook.c.)
 */

/**
 * 1 when the firmware's route hooks (LWIP_HOOK_IP4_ROUTE, LWIP_HOOK_IP4_ROUTE_SRC) answer for a
 * destination from nothing but the destination and the netifs' state lwIP reports through its
 * netif callback (addresses, netmasks, gateways, up and link flags, the netif list) and
 * netif_default: the same answer for every source. Then the hook may cache its route lookups
 * (LWIP_SNAT_ROUTE_CACHE). The default is 1 without either hook, 0 with one. Define it 1 when
 * the route hook is lwip_snat_ip4_route_src() alone (the optional line above): that one never
 * answers the hook's own lookups. (Defined in lwip_snat_hook.c.)
 */

/**
 * 1: the hook remembers the routes it looks up (the netif for a destination, in a table of
 * LWIP_SNAT_ROUTE_CACHE_SIZE entries, a power of two, default 16, 8 bytes each on 32-bit
 * cores, picked by the destination's last byte) and routes the next packet to a remembered
 * destination without scanning the netifs. Every netif change lwIP reports
 * (LWIP_NETIF_EXT_STATUS_CALLBACK), a new netif_default, each timer run (for fields written
 * into struct netif directly) and lwip_snat_start() forget them. The default is 1 with the
 * library's fast-path feature, LWIP_NETIF_EXT_STATUS_CALLBACK and cacheable route hooks
 * (LWIP_SNAT_ROUTE_HOOKS_CACHEABLE), 0 otherwise, which looks every route up. (Defined in
 * lwip_snat_hook.c, which sees lwIP's options.)
 */

/**
 * True for an ICMP echo identifier the router's own pings use: inside hosts never get it as
 * their external identifier, so the replies to the router's pings reach lwIP. lwIP keeps no
 * list of them; the default is the PING_ID of lwIP contrib's ping app. Define it to match
 * your own pinger, e.g. ((id) == 0xAFAF || (id) == MY_PING_ID).
 */
#ifndef LWIP_SNAT_ROUTER_ICMP_ID
#define LWIP_SNAT_ROUTER_ICMP_ID(id) ((id) == 0xAFAF)
#endif

lwip_snat_err_t (lwip_snat_start)(const struct lwip_snat_config *cfg);
lwip_snat_err_t lwip_snat_start_checked(const struct lwip_snat_config *cfg, lwip_snat_err_t capacities);

/**
 * lwip_snat_start() refuses with LWIP_SNAT_ERR_CAPACITY, changing nothing, when the lwip_snat.h
 * the calling unit was compiled with states other capacities than the library was built with
 * (a header from another build than the archive).
 */
#define lwip_snat_start(cfg) lwip_snat_start_checked((cfg), LWIP_SNAT_CHECK_CAPACITIES())

/** lwip_snat_check_capacities() with the capacities of this unit's lwip_snat.h */
#define LWIP_SNAT_CHECK_CAPACITIES() lwip_snat_check_capacities(LWIP_SNAT_MAX_TCP, LWIP_SNAT_MAX_UDP, \
    LWIP_SNAT_MAX_ICMP, LWIP_SNAT_MAX_RULES, LWIP_SNAT_MAX_HOSTS, LWIP_SNAT_REASS_SLOTS, \
    LWIP_SNAT_REASS_BYTES, LWIP_SNAT_MAX_PORTMAPS)
int lwip_snat_ip4_input_hook(struct pbuf *p, struct netif *inp);
struct netif *lwip_snat_ip4_route_src(const struct ip4_addr *src, const struct ip4_addr *dest);
uint32_t lwip_snat_hook_copies(void);

#ifdef __cplusplus
}
#endif

#endif /* LWIP_SNAT_HOOK_H */
