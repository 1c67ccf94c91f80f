/**
 * @file
 * lwip-snat: the NAPT API of esp-lwip (lwip/lwip_napt.h), on top of lwip-snat.
 *
 * A firmware written for esp-lwip's NAPT (ESP32/ESP8266 routers and repeaters) switches by
 * including this header instead of "lwip/lwip_napt.h", linking c-shim/compat/napt.c, the shim
 * (c-shim/lwip_snat_hook.c) and the library, and putting the shim's hook into lwipopts.h
 * (esp-lwip's NAPT sits inside its ip4.c; here lwIP's LWIP_HOOK_IP4_INPUT reaches it):
 *
 *   #define LWIP_HOOK_FILENAME          "lwip_snat_hook.h"
 *   #define LWIP_HOOK_IP4_INPUT(p, inp) lwip_snat_ip4_input_hook(p, inp)
 *
 * The calls keep esp-lwip's conventions: addresses in network byte order (as ip4_addr_t.addr
 * holds them), ports in host byte order, 1/0 results. Call them in lwIP's core context. The
 * first call that enables NAPT or adds a port map starts lwip-snat (lwip_snat_start()) with
 * the knobs below.
 *
 * What differs from esp-lwip (docs/migrating.md has the whole table):
 * - Mappings are endpoint independent and filtering address-and-port dependent (RFC 4787,
 *   RFC 5382); ICMP echo identifiers are translated too; ICMP errors are translated.
 * - Timeouts never go below the RFC floors (TCP 124 min established, 4 min transitory, UDP
 *   2 min, ICMP 1 min) unless LWIP_SNAT_COMPAT_ALLOW_SHORT_TIMEOUTS is 1.
 * - A full table evicts half-open, answered or long idle sessions, never a live connection.
 * - Packets from outside straight to an inside address are dropped (unless a live session's).
 * - ip_napt_enable() for an address no netif holds yet is remembered and applied when a netif
 *   gets it; a port map whose maddr no netif holds (WAN still on DHCP) works on lwIP's default
 *   netif until a netif gets maddr.
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */

#ifndef LWIP_SNAT_COMPAT_NAPT_H
#define LWIP_SNAT_COMPAT_NAPT_H

#include "lwip/opt.h"
#include "lwip/arch.h"

#include "lwip_snat.h"

#ifdef __cplusplus
extern "C" {
#endif

struct netif;

/** esp-lwip's feature switches, for firmware code inside #if IP_NAPT / #if IP_NAPT_PORTMAP. */
#ifndef IP_NAPT
#define IP_NAPT 1
#endif
#ifndef IP_NAPT_PORTMAP
#define IP_NAPT_PORTMAP 1
#endif

/**
 * Sessions of all protocols together. lwip-snat's tables are sized when the library is built
 * (LWIP_SNAT_MAX_TCP, _UDP, _ICMP): a larger IP_NAPT_MAX is an error, not a silent shortfall.
 */
#ifndef IP_NAPT_MAX
#define IP_NAPT_MAX (LWIP_SNAT_MAX_TCP + LWIP_SNAT_MAX_UDP + LWIP_SNAT_MAX_ICMP)
#endif
#if IP_NAPT_MAX > (LWIP_SNAT_MAX_TCP + LWIP_SNAT_MAX_UDP + LWIP_SNAT_MAX_ICMP)
#error "IP_NAPT_MAX exceeds the library's tables: build lwip-snat with larger LWIP_SNAT_MAX_TCP/_UDP/_ICMP"
#endif

/** Port maps: at most the library's LWIP_SNAT_MAX_PORTMAPS (sized when it is built). */
#ifndef IP_PORTMAP_MAX
#define IP_PORTMAP_MAX LWIP_SNAT_MAX_PORTMAPS
#endif
#if IP_PORTMAP_MAX > LWIP_SNAT_MAX_PORTMAPS
#error "IP_PORTMAP_MAX exceeds the library's LWIP_SNAT_MAX_PORTMAPS: build lwip-snat with a larger one"
#endif

/*
 * Idle timeouts in milliseconds, mapped to lwip_snat_config: _TCP to tcp_established_ms,
 * _TCP_DISCON to tcp_transitory_ms, _UDP to udp_ms, _ICMP to icmp_ms. Unset, lwip-snat's
 * defaults apply; a value below its RFC floor is raised to the floor unless
 * LWIP_SNAT_COMPAT_ALLOW_SHORT_TIMEOUTS is 1 (esp-lwip's own defaults, 30 min, 60 s, 2 s and
 * 2 s, are all below).
 */
#ifndef IP_NAPT_TIMEOUT_MS_TCP
#define IP_NAPT_TIMEOUT_MS_TCP 7440000
#endif
#ifndef IP_NAPT_TIMEOUT_MS_TCP_DISCON
#define IP_NAPT_TIMEOUT_MS_TCP_DISCON 240000
#endif
#ifndef IP_NAPT_TIMEOUT_MS_UDP
#define IP_NAPT_TIMEOUT_MS_UDP 300000
#endif
#ifndef IP_NAPT_TIMEOUT_MS_ICMP
#define IP_NAPT_TIMEOUT_MS_ICMP 60000
#endif
#ifndef LWIP_SNAT_COMPAT_ALLOW_SHORT_TIMEOUTS
#define LWIP_SNAT_COMPAT_ALLOW_SHORT_TIMEOUTS 0
#endif

/*
 * IP_NAPT_PORT_RANGE_START/_END are not used: esp-lwip's range (49152-61439) is lwIP's own
 * ephemeral range, which lwip-snat keeps clear of (lwip_snat_config.port_range_*).
 */

/** Addresses ip_napt_enable() remembers until a netif holds them. */
#ifndef LWIP_SNAT_COMPAT_PENDING_ADDRS
#define LWIP_SNAT_COMPAT_PENDING_ADDRS 4
#endif

#if !(defined(ESP_LWIP) && ESP_LWIP && defined(IP_NAPT_STATS) && IP_NAPT_STATS)
/** What ip_napt_get_stats() reports (esp-lwip declares it in lwip/stats.h). */
struct stats_ip_napt {
  /** TCP sessions live now. */
  u32_t nr_active_tcp;
  /** UDP sessions live now. */
  u32_t nr_active_udp;
  /** ICMP query sessions live now. */
  u32_t nr_active_icmp;
  /** Sessions that gave way to a new one in a full table (half-open, answered, long idle). */
  u32_t nr_forced_evictions;
};
#endif

/**
 * Masquerades what is forwarded from the netif whose address is @p addr (network byte order),
 * or stops it (@p enable 0). An address no netif holds yet is remembered (up to
 * LWIP_SNAT_COMPAT_PENDING_ADDRS) and enabled when a netif gets it. Disabling the last NAPT
 * netif drops every session and port map, as esp-lwip frees its tables then.
 */
void ip_napt_enable(u32_t addr, int enable);

/** ip_napt_enable() for the netif whose netif->num is @p number. */
void ip_napt_enable_no(u8_t number, int enable);

/** ip_napt_enable() for @p netif; 0 (nothing changed) when it is NULL or down, 1 otherwise. */
int ip_napt_enable_netif(struct netif *netif, int enable);

/**
 * Forwards @p proto (IP_PROTO_TCP or IP_PROTO_UDP) traffic to port @p mport (host order) of
 * the external address @p maddr (network order) to @p daddr (network order):@p dport (host
 * order). Adding the same @p proto and @p mport again replaces the forward. @p maddr no netif
 * holds yet (0 while the WAN waits for DHCP) puts the forward on lwIP's default netif until a
 * netif holds it. 1 on success, 0 when the table is full or lwip-snat refuses it (a port its
 * own endpoints or a live mapping hold, an inside address that is no host).
 */
u8_t ip_portmap_add(u8_t proto, u32_t maddr, u16_t mport, u32_t daddr, u16_t dport);

/** The forward of @p proto and @p mport as ip_portmap_add() got it; 1 when there is one. */
u8_t ip_portmap_get(u8_t proto, u16_t mport, u32_t *maddr, u32_t *daddr, u16_t *dport);

/** Removes the forward of @p proto and @p mport (and the sessions it let in); 1 when there was one. */
u8_t ip_portmap_remove(u8_t proto, u16_t mport);

/** Fills @p stats from lwip_snat_stats(); all zero before NAPT was first enabled. */
void ip_napt_get_stats(struct stats_ip_napt *stats);

#ifdef __cplusplus
}
#endif

#endif /* LWIP_SNAT_COMPAT_NAPT_H */
