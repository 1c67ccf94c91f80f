/**
 * @file
 * lwip-snat glue for lwIP: LWIP_HOOK_IP4_INPUT and the periodic timer.
 *
 * See lwip_snat_hook.h for the "Basic usage" lines. The hook runs in ip4_input() right after
 * the version check, before lwIP validates the header, reassembles or routes: it hands the
 * Rust core the packet's bytes and the route ip4_input() is about to take, and the core
 * validates, translates in place or tells the hook to drop it or to answer it with an ICMP
 * error. A packet to be forwarded the hook sends out itself when it can do exactly what lwIP
 * would (LWIP_SNAT_FORWARD); lwIP forwards or delivers the rest.
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */

#include "lwip/opt.h"

#if LWIP_IPV4 /* don't build if not configured for use in lwipopts.h */

#include "lwip_snat_hook.h"

#include "lwip/def.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/ip4_addr.h"
#include "lwip/ip4_frag.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#if LWIP_UDP
#include "lwip/udp.h"
#endif
#if LWIP_TCP
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#endif
#if LWIP_AUTOIP
#include "lwip/autoip.h"
#endif
#if LWIP_IGMP
#include "lwip/igmp.h"
#endif
#include "lwip/stats.h"

#include <stddef.h>
#include <string.h>

#if !IP_FORWARD
#error "lwip-snat needs IP_FORWARD 1 in lwipopts.h: the NAT translates what lwIP forwards"
#endif
#if !LWIP_TIMERS
#error "lwip-snat needs LWIP_TIMERS: a cyclic sys_timeout expires idle mappings"
#endif
#ifndef LWIP_RAND
#error "lwip-snat needs LWIP_RAND() (or define it) to seed its unpredictable port choice"
#endif

/**
 * How the hook feeds a datagram the NAT reassembled back to lwIP, so that it takes the same
 * path as an unfragmented one. ip4_input() calls the hook again when LWIP_HOOK_IP4_INPUT is
 * compiled in; define this for a stack that calls the hook some other way. An expression of
 * type err_t with netif->input's contract: ERR_OK when it took the pbuf (ip4_input() always
 * does), any other value when it did not, and the hook then frees it.
 */
#ifndef LWIP_SNAT_REINJECT
#if LWIP_SNAT_NETIF_INPUT
#include "lwip_snat_netif.h"
#define LWIP_SNAT_REINJECT(p, inp) lwip_snat_ip4_input(p, inp)
#else
#define LWIP_SNAT_REINJECT(p, inp) ip4_input(p, inp)
#endif
#endif

/* lwip_snat_hook.h: the hook forwards what it routed itself, in place of ip4_forward() of
 * the lwIP 2.2 it reproduces (only ip4_input() calls the hook with ip_data and the stats of
 * that forwarding to keep), when the library has the hook-forward feature. */
#ifndef LWIP_SNAT_FORWARD
#if defined(LWIP_SNAT_FEATURE_HOOK_FORWARD) && defined(LWIP_HOOK_IP4_INPUT) && !LWIP_SNAT_NETIF_INPUT && \
    (LWIP_VERSION_MAJOR == 2) && (LWIP_VERSION_MINOR == 2)
#define LWIP_SNAT_FORWARD 1
#else
#define LWIP_SNAT_FORWARD 0
#endif
#endif

/* The NAT's facts about each netif (lwip_snat_netif_concerns()), which the quiet tests read:
 * kept by a library with the fast-path feature only. */
#if defined(LWIP_SNAT_FEATURE_FAST_PATH)
#define LWIP_SNAT_FACTS 1
#else
#define LWIP_SNAT_FACTS 0
#endif

/* lwip_snat_hook.h: the hook's own quiet tests, shortcuts to what the core decides again, when
 * the library keeps the facts they read. */
#ifndef LWIP_SNAT_QUIET_PATH
#define LWIP_SNAT_QUIET_PATH LWIP_SNAT_FACTS
#endif
#if LWIP_SNAT_QUIET_PATH && !LWIP_SNAT_FACTS
#error "LWIP_SNAT_QUIET_PATH needs a library built with the fast-path feature (the facts it reads)"
#endif

/* lwip_snat_hook.h: route lookups cached between the netif changes lwIP reports, where the
 * firmware's route hooks allow it and the library has the fast-path feature. */
#ifndef LWIP_SNAT_ROUTE_HOOKS_CACHEABLE
#if defined(LWIP_HOOK_IP4_ROUTE) || defined(LWIP_HOOK_IP4_ROUTE_SRC)
#define LWIP_SNAT_ROUTE_HOOKS_CACHEABLE 0
#else
#define LWIP_SNAT_ROUTE_HOOKS_CACHEABLE 1
#endif
#endif
#ifndef LWIP_SNAT_ROUTE_CACHE
#if defined(LWIP_SNAT_FEATURE_FAST_PATH) && LWIP_NETIF_EXT_STATUS_CALLBACK && LWIP_SNAT_ROUTE_HOOKS_CACHEABLE && \
    !LWIP_SINGLE_NETIF
#define LWIP_SNAT_ROUTE_CACHE 1
#else
#define LWIP_SNAT_ROUTE_CACHE 0
#endif
#endif
#if LWIP_SNAT_ROUTE_CACHE && (!LWIP_NETIF_EXT_STATUS_CALLBACK || LWIP_SINGLE_NETIF)
#error "LWIP_SNAT_ROUTE_CACHE needs LWIP_NETIF_EXT_STATUS_CALLBACK (to hear netif changes) and several netifs"
#endif
#ifndef LWIP_SNAT_ROUTE_CACHE_SIZE
#define LWIP_SNAT_ROUTE_CACHE_SIZE 16
#endif
#if LWIP_SNAT_ROUTE_CACHE && ((LWIP_SNAT_ROUTE_CACHE_SIZE < 1) || (LWIP_SNAT_ROUTE_CACHE_SIZE > 256) || \
                              ((LWIP_SNAT_ROUTE_CACHE_SIZE & (LWIP_SNAT_ROUTE_CACHE_SIZE - 1)) != 0))
#error "LWIP_SNAT_ROUTE_CACHE_SIZE must be a power of two from 1 to 256"
#endif

#if LWIP_DHCP || defined(LWIP_IP_ACCEPT_UDP_PORT)
/* the same test ip4_input() makes (ip4.c) */
#ifndef IP_ACCEPT_LINK_LAYER_ADDRESSED_PORT
#if LWIP_DHCP && defined(LWIP_IP_ACCEPT_UDP_PORT)
#define IP_ACCEPT_LINK_LAYER_ADDRESSED_PORT(port) (((port) == PP_NTOHS(LWIP_IANA_PORT_DHCP_CLIENT)) \
                                                   || (LWIP_IP_ACCEPT_UDP_PORT(port)))
#elif defined(LWIP_IP_ACCEPT_UDP_PORT)
#define IP_ACCEPT_LINK_LAYER_ADDRESSED_PORT(port) (LWIP_IP_ACCEPT_UDP_PORT(port))
#else
#define IP_ACCEPT_LINK_LAYER_ADDRESSED_PORT(port) ((port) == PP_NTOHS(LWIP_IANA_PORT_DHCP_CLIENT))
#endif
#endif
#define LWIP_SNAT_LINK_LAYER_ADDRESSING 1
#else
#define LWIP_SNAT_LINK_LAYER_ADDRESSING 0
#endif

/** ntohl()/htonl() of @p x (an expression without side effects), inline: lwip_htonl() is a call
 * unless the port defines it, and compilers turn these shifts into one byte-reverse instruction. */
#define LWIP_SNAT_SWAP(x) PP_NTOHL(x)

/** Keeps a function out of line where gcc -Os (or clang) would take it in line at more bytes
 * (each use says why); other compilers decide for themselves. */
#if defined(__GNUC__)
#define LWIP_SNAT_NOINLINE __attribute__((noinline))
#else
#define LWIP_SNAT_NOINLINE
#endif

/** @p p, with gcc (or clang) told that it is aligned to @p n bytes, where the caller knows it:
 * a memcpy() from or store to it is then one instruction where words may not load from any
 * address (thumbv6m: a call to memcpy() otherwise; a pcb's pointers in lwip_snat_pcbs_hold(),
 * a pbuf's payload in lwip_snat_send_frag_needed()); other compilers take @p p as it is. */
#if defined(__GNUC__)
#define LWIP_SNAT_ALIGNED(p, n) __builtin_assume_aligned((p), (n))
#else
#define LWIP_SNAT_ALIGNED(p, n) (p)
#endif

/** True when @p x is, with gcc (or clang) told that it nearly always is: gcc -Os then lays the
 * hook's blocks out in fewer bytes (measured at each use); other compilers take @p x as it is. */
#if defined(__GNUC__)
#define LWIP_SNAT_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define LWIP_SNAT_LIKELY(x) (x)
#endif

/** Payload bytes an ICMP error quotes after the header (RFC 792; lwIP's icmp.c uses 8 too). */
#define LWIP_SNAT_ICMP_QUOTED_DATA 8

/** Where the IP header bytes translation may rewrite begin: TTL, protocol and checksum, then
 * the source (a hairpinned datagram's) and the destination, up to the header's fixed end. */
#define LWIP_SNAT_ARRIVED_AT 8

#if LWIP_SNAT_FORWARD
/**
 * What translation may rewrite in the part of a datagram an ICMP error quotes: the header
 * bytes from LWIP_SNAT_ARRIVED_AT to IP_HLEN and the first 8 transport bytes (ports or ICMP
 * identifier, UDP or ICMP checksum). Kept for a DF datagram to the router before the core
 * translates it (a few words: cheaper than scanning every netif's MTU to know whether its
 * whole header must be copied), so that the rare one the translation makes too big for the
 * inside netif is quoted as it arrived.
 */
struct lwip_snat_arrived {
  /* (words: five loads and stores for a header without options) */
  u32_t ip[(IP_HLEN - LWIP_SNAT_ARRIVED_AT) / 4];
  u32_t l4[LWIP_SNAT_ICMP_QUOTED_DATA / 4];
};

/** The @p arrived bytes of a datagram the core translated were kept: their first word holds
 * the TTL, never 0 in such a datagram, and is 0 when they were not (the hook sets it so for
 * every datagram it gives the core). */
#define LWIP_SNAT_ARRIVED_KEPT(arrived) ((arrived)->ip[0] != 0)
/** Marks @p arrived as not kept. */
#define LWIP_SNAT_ARRIVED_NOT_KEPT(arrived) ((arrived)->ip[0] = 0)
#else
/**
 * The part of a datagram an ICMP error quotes (its header and 8 bytes more), as it arrived.
 * Without the hook's forwarding it is kept only for a DF datagram to the router larger than
 * some netif's MTU (rare), so that one the translation makes too big for the inside netif is
 * quoted as it arrived: copied whole, the quote needs no rebuilding from the translated bytes
 * (smaller code; the same bytes, as translation leaves the rest of them as they were).
 */
struct lwip_snat_arrived {
  /** bytes in quote; 0 when nothing was kept (a word: the hook's stack slot is then loaded and
   * stored with the short forms, which have none for halfwords) */
  u32_t len;
  u8_t quote[IP_HLEN_MAX + LWIP_SNAT_ICMP_QUOTED_DATA];
};

#define LWIP_SNAT_ARRIVED_KEPT(arrived) ((arrived)->len != 0)
#define LWIP_SNAT_ARRIVED_NOT_KEPT(arrived) ((arrived)->len = 0)
#endif

/** What lwip_snat_start() sets up, in one block (one address for all of it there). */
static struct lwip_snat_started {
#if LWIP_NETIF_EXT_STATUS_CALLBACK
  /** The registration of lwip_snat_netif_event() (once, by the first lwip_snat_start()); first:
   * its address is the block's. */
  netif_ext_callback_t netif_callback;
#endif
  /** Chained datagrams copied into one contiguous pbuf since lwip_snat_start(). */
  u32_t copies;
#if !LWIP_NETIF_EXT_STATUS_CALLBACK
  /** Set once lwip_snat_start() registered the timer. */
  u8_t running;
#endif
} lwip_snat_started;
#if LWIP_NETIF_EXT_STATUS_CALLBACK
/** True once lwip_snat_start() registered the timer, with the netif callback, whose function
 * netif_add_ext_callback() sets: no flag of its own to set (full and minimal builds 4 bytes
 * less). */
#define LWIP_SNAT_RUNNING() (lwip_snat_started.netif_callback.callback_fn != NULL)
#else
/** True once lwip_snat_start() registered the timer. */
#define LWIP_SNAT_RUNNING() (lwip_snat_started.running != 0)
#endif
#if defined(LWIP_DEBUG) && ((LWIP_SNAT_DEBUG) & LWIP_DBG_ON)
/** 1 when LWIP_SNAT_DEBUG logs: only then is any of the logging code below compiled. */
#define LWIP_SNAT_DEBUGGING 1
#else
#define LWIP_SNAT_DEBUGGING 0
#endif

#if LWIP_SNAT_DEBUGGING
/** A packet's protocol, addresses and ports (0 for protocols without ports), as logged. */
struct lwip_snat_endpoints {
  u8_t proto;
  u8_t src[4];
  u8_t dst[4];
  u16_t sport;
  u16_t dport;
};

#define LWIP_SNAT_EP_FMT "%"U16_F".%"U16_F".%"U16_F".%"U16_F":%"U16_F
#define LWIP_SNAT_EP_ARGS(a, port) (u16_t)(a)[0], (u16_t)(a)[1], (u16_t)(a)[2], (u16_t)(a)[3], (u16_t)(port)
#define LWIP_SNAT_EPS_FMT "proto %"U16_F" "LWIP_SNAT_EP_FMT" -> "LWIP_SNAT_EP_FMT
#define LWIP_SNAT_EPS_ARGS(e) (u16_t)(e)->proto, LWIP_SNAT_EP_ARGS((e)->src, (e)->sport), \
  LWIP_SNAT_EP_ARGS((e)->dst, (e)->dport)

/** Reads the endpoints of the IPv4 packet @p bytes (at least IP_HLEN bytes). */
static void
lwip_snat_endpoints_of(const u8_t *bytes, u16_t len, struct lwip_snat_endpoints *e)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;
  u16_t hlen = IPH_HL_BYTES(iphdr);

  memset(e, 0, sizeof(*e));
  e->proto = IPH_PROTO(iphdr);
  MEMCPY(e->src, bytes + 12, 4);
  MEMCPY(e->dst, bytes + 16, 4);
  if (((e->proto == IP_PROTO_TCP) || (e->proto == IP_PROTO_UDP)) && (hlen >= IP_HLEN) && (len >= hlen + 4) &&
      ((IPH_OFFSET(iphdr) & PP_HTONS(IP_OFFMASK)) == 0)) {
    e->sport = (u16_t)((bytes[hlen] << 8) | bytes[hlen + 1]);
    e->dport = (u16_t)((bytes[hlen + 2] << 8) | bytes[hlen + 3]);
  }
}

/** Per-protocol session counters (TCP, UDP, ICMP), to see what a call created or expired. */
static void
lwip_snat_session_counts(u32_t created[3], u32_t expired[3])
{
  struct lwip_snat_stats st;

  memset(&st, 0, sizeof(st));
  (void)lwip_snat_stats(&st);
  created[0] = st.tcp.created;
  created[1] = st.udp.created;
  created[2] = st.icmp.created;
  expired[0] = st.tcp.expired;
  expired[1] = st.udp.expired;
  expired[2] = st.icmp.expired;
}

static const char *const lwip_snat_proto_names[3] = { "TCP", "UDP", "ICMP" };

#if defined(LWIP_SNAT_FEATURE_DUMP)
/** The four bytes of @p addr (host byte order, as lwip_snat_session holds it), for LWIP_SNAT_EP_ARGS. */
static void
lwip_snat_addr_bytes(u32_t addr, u8_t out[4])
{
  out[0] = (u8_t)(addr >> 24);
  out[1] = (u8_t)(addr >> 16);
  out[2] = (u8_t)(addr >> 8);
  out[3] = (u8_t)addr;
}

/** lwip_snat_foreach() callback: logs a session the tick about to run expires (the core's rule:
 * idle longer than its timeout, in wrapping milliseconds). */
static void
lwip_snat_debug_expiring(const struct lwip_snat_session *s, void *arg)
{
  struct netif *n = netif_get_by_index(s->ext_netif_idx);
  u8_t in[4], ext[4] = { 0, 0, 0, 0 }, remote[4];
  u32_t ext_addr;

  LWIP_UNUSED_ARG(arg);
  if ((s32_t)s->idle_ms <= (s32_t)s->timeout_ms) {
    return;
  }
  lwip_snat_addr_bytes(s->inside_addr, in);
  lwip_snat_addr_bytes(s->remote_addr, remote);
  if (n != NULL) {
    ext_addr = ip4_addr_get_u32(netif_ip4_addr(n));
    MEMCPY(ext, &ext_addr, 4);
  }
  LWIP_DEBUGF(LWIP_SNAT_DEBUG, ("lwip_snat: mapping expired %s "LWIP_SNAT_EP_FMT" as "LWIP_SNAT_EP_FMT" -> "
                                LWIP_SNAT_EP_FMT"\n",
                                lwip_snat_proto_names[(s->proto == LWIP_SNAT_PROTO_TCP) ? 0 :
                                                      ((s->proto == LWIP_SNAT_PROTO_UDP) ? 1 : 2)],
                                LWIP_SNAT_EP_ARGS(in, s->inside_port), LWIP_SNAT_EP_ARGS(ext, s->ext_port),
                                LWIP_SNAT_EP_ARGS(remote, s->remote_port)));
}
#endif

/** Logs the mappings that expired since @p before (lwip_snat_session_counts()'s expired). */
static void
lwip_snat_debug_expired(const u32_t before[3])
{
  u32_t created[3], expired[3];
  int i;

  lwip_snat_session_counts(created, expired);
  for (i = 0; i < 3; i++) {
    if (expired[i] != before[i]) {
      LWIP_DEBUGF(LWIP_SNAT_DEBUG, ("lwip_snat: %"U32_F" %s mapping(s) expired\n", (u32_t)(expired[i] - before[i]),
                                    lwip_snat_proto_names[i]));
    }
  }
}

/**
 * Logs what lwip_snat_process() did to a packet that had the endpoints @p before: a drop with
 * its reason, a mapping created (with the endpoints after translation, in @p bytes).
 */
static void
lwip_snat_debug_verdict(lwip_snat_err_t err, const struct lwip_snat_verdict *v, const struct lwip_snat_endpoints *before,
                        const u8_t *bytes, u16_t len, const u32_t created_before[3])
{
  struct lwip_snat_endpoints after;
  u32_t created[3], expired[3];
#if defined(LWIP_SNAT_FEATURE_DUMP)
  const char *reason;
#endif
  int i;

  if ((err != LWIP_SNAT_OK) && (err != LWIP_SNAT_ERR_NOT_INIT)) {
#if defined(LWIP_SNAT_FEATURE_DUMP)
    LWIP_DEBUGF(LWIP_SNAT_DEBUG, ("lwip_snat: drop %s "LWIP_SNAT_EPS_FMT"\n", lwip_snat_strerror(err),
                                  LWIP_SNAT_EPS_ARGS(before)));
#else /* no names without the library's `dump`: the number */
    LWIP_DEBUGF(LWIP_SNAT_DEBUG, ("lwip_snat: drop error %d "LWIP_SNAT_EPS_FMT"\n", (int)err,
                                  LWIP_SNAT_EPS_ARGS(before)));
#endif
    return;
  }
  if ((err == LWIP_SNAT_OK) && (v->action == LWIP_SNAT_DROP)) {
#if defined(LWIP_SNAT_FEATURE_DUMP)
    reason = lwip_snat_drop_reason_name(v->drop_reason);
    LWIP_DEBUGF(LWIP_SNAT_DEBUG, ("lwip_snat: drop %s "LWIP_SNAT_EPS_FMT"\n", (reason != NULL) ? reason : "?",
                                  LWIP_SNAT_EPS_ARGS(before)));
#else
    LWIP_DEBUGF(LWIP_SNAT_DEBUG, ("lwip_snat: drop reason %u "LWIP_SNAT_EPS_FMT"\n", (unsigned)v->drop_reason,
                                  LWIP_SNAT_EPS_ARGS(before)));
#endif
  }
  lwip_snat_session_counts(created, expired);
  lwip_snat_endpoints_of(bytes, len, &after);
  for (i = 0; i < 3; i++) {
    if (created[i] != created_before[i]) {
      LWIP_DEBUGF(LWIP_SNAT_DEBUG, ("lwip_snat: mapping created %s "LWIP_SNAT_EPS_FMT" as "LWIP_SNAT_EP_FMT" -> "
                                    LWIP_SNAT_EP_FMT"\n", lwip_snat_proto_names[i], LWIP_SNAT_EPS_ARGS(before),
                                    LWIP_SNAT_EP_ARGS(after.src, after.sport), LWIP_SNAT_EP_ARGS(after.dst, after.dport)));
    }
  }
}

/** Logs an ICMP error the shim sends about the packet @p bytes. */
static void
lwip_snat_debug_icmp(u8_t type, u8_t code, const u8_t *bytes, u16_t len)
{
  struct lwip_snat_endpoints about;

  lwip_snat_endpoints_of(bytes, len, &about);
  LWIP_DEBUGF(LWIP_SNAT_DEBUG, ("lwip_snat: ICMP error %"U16_F"/%"U16_F" sent about "LWIP_SNAT_EPS_FMT"\n",
                                (u16_t)type, (u16_t)code, LWIP_SNAT_EPS_ARGS(&about)));
}
#define LWIP_SNAT_DEBUG_ICMP(type, code, bytes, len) lwip_snat_debug_icmp(type, code, bytes, len)
#else
#define LWIP_SNAT_DEBUG_ICMP(type, code, bytes, len)
#endif /* LWIP_SNAT_DEBUGGING */

/** Last seen address of netif index i+1 (network byte order), 0 while down or absent. */
static u32_t lwip_snat_seen_addr[LWIP_SNAT_NETIF_SLOTS];

static void lwip_snat_tmr(void *arg);

/** The netif's address as the NAT uses it: 0 while the netif is down or its link is. */
static u32_t
lwip_snat_netif_addr(const struct netif *netif)
{
  if ((netif == NULL) || !netif_is_up(netif) || !netif_is_link_up(netif)) {
    return 0;
  }
  return ip4_addr_get_u32(netif_ip4_addr(netif));
}

#if LWIP_NETIF_EXT_STATUS_CALLBACK
/* (lwip_snat_watch_netif() its one caller: in line there) */
#define LWIP_SNAT_WATCH_NOINLINE
#else
/* (also called by the hook's LWIP_SNAT_WATCH(): out of line) */
#define LWIP_SNAT_WATCH_NOINLINE LWIP_SNAT_NOINLINE
#endif

/**
 * Remembers the address of the netif in watch slot @p slot (its lwIP index less 1: index 0,
 * NETIF_NO_INDEX, is slot 255, never watched) and drops the netif's mappings when it changed
 * (mappings on the old address are void: replies to it can no longer arrive). Also from
 * lwip_snat_start(), right after lwip_snat_init(): a NAT just reset holds no mapping, session or
 * fact that the drop changes (tests/lwip/c_api.c checks it), so there it only remembers, and
 * no call needs telling which.
 */
static LWIP_SNAT_WATCH_NOINLINE void
lwip_snat_watch(unsigned slot, u32_t addr)
{
  u32_t seen;

  if (slot >= LWIP_SNAT_NETIF_SLOTS) {
    return;
  }
  /* (stored either way: no second path that only stores) */
  seen = lwip_snat_seen_addr[slot];
  lwip_snat_seen_addr[slot] = addr;
  if (seen != addr) {
    lwip_snat_netif_changed((u8_t)(slot + 1u));
  }
}

#if LWIP_SNAT_ROUTE_CACHE
/** A route remembered for its destination (lwip_snat_route_remembered()); none while NULL. */
struct lwip_snat_route_memo {
  /** the destination (network byte order) */
  u32_t dest;
  /** the netif lwip_snat_route_unicast() routes it to */
  struct netif *route;
};
/** The remembered routes and what goes with them, in one block: the in-line lookup reaches the
 * entries and the default netif they were found under from one address. */
static struct lwip_snat_route_block {
  /** The last source lwip_snat_from_broadcast() found to be no broadcast address (0: none);
   * before the entries: forgotten with them by one memset. */
  u32_t unicast_source;
  /** Routes remembered, one per value of the destination's last byte modulo the size (mostly
   * the host part: the inside hosts of one LAN each have their own). */
  struct lwip_snat_route_memo memos[LWIP_SNAT_ROUTE_CACHE_SIZE];
  /** netif_default when the routes were remembered: lwIP reports no netif_set_default(). */
  struct netif *memo_default;
} lwip_snat_routes;

/** The entry of lwip_snat_routes.memos that may hold the route to @p addr (an ip4_addr_t *). */
#define LWIP_SNAT_MEMO_OF(addr) (&lwip_snat_routes.memos[((const u8_t *)(addr))[3] & (LWIP_SNAT_ROUTE_CACHE_SIZE - 1u)])

/** True when a route to @p addr is remembered: it was then no address of the router's and no
 * netif's broadcast address (lwip_snat_route_unicast()), and no netif changed since. */
#define LWIP_SNAT_ROUTE_REMEMBERED(addr) \
  ((LWIP_SNAT_MEMO_OF(addr)->route != NULL) && (LWIP_SNAT_MEMO_OF(addr)->dest == ip4_addr_get_u32(addr)))

/** Forgets every remembered route (the netifs changed, or may have). */
static void
lwip_snat_forget_routes(void)
{
  /* (the unicast source and the whole entries after it cleared by one memset: smaller than a
   * loop over their routes and a store of its own) */
  memset(&lwip_snat_routes, 0, offsetof(struct lwip_snat_route_block, memo_default));
}
#define LWIP_SNAT_FORGET_ROUTES() lwip_snat_forget_routes()
#else
#define LWIP_SNAT_FORGET_ROUTES()
#endif

/**
 * lwip_snat_watch() of watch slot @p slot with the address of @p netif (0 for NULL), then
 * forgets the remembered routes. The one place that does both for the netif callback and
 * lwip_snat_watch_all(), out of line: smaller than a copy of the address test and a call to
 * forget in each (lwip_snat_watch_all() then forgets the routes once per netif index, the same
 * empty table as once before the loop; neither runs per packet). @p slot is a word, here and
 * in lwip_snat_watch(): lwip_snat_watch_all() hands on its loop's counter without narrowing it.
 * (Forgotten last, the order being free, as the NAT's drop of the netif's mappings reads no
 * route: the forgetting is then a tail call and nothing lives across the watch's call, full
 * build 8 bytes less.)
 */
static LWIP_SNAT_NOINLINE void
lwip_snat_watch_netif(unsigned slot, const struct netif *netif)
{
  lwip_snat_watch(slot, lwip_snat_netif_addr(netif));
  LWIP_SNAT_FORGET_ROUTES();
}

#if LWIP_NETIF_EXT_STATUS_CALLBACK
/**
 * lwIP's netif callback: an address, up/down or link change made through lwIP's netif API is
 * watched when lwIP makes it, so packets need not look. lwIP calls it before it takes a netif
 * down or removes it (the netif still looks up then), after every other change.
 */
static void
lwip_snat_netif_event(struct netif *netif, netif_nsc_reason_t reason, const netif_ext_callback_args_t *args)
{
  unsigned slot = (u8_t)(netif_get_index(netif) - 1u);

  /* (the remembered routes forgotten there: called before a netif goes down or is removed, no
   * packet comes in before it is; a call for each case, each a jump: one call with the netif or
   * NULL chosen first took 4 bytes more, gcc's select of the two) */
  if (((reason & LWIP_NSC_NETIF_REMOVED) != 0) ||
      (((reason & LWIP_NSC_STATUS_CHANGED) != 0) && (args != NULL) && (args->status_changed.state == 0))) {
    lwip_snat_watch_netif(slot, NULL);
    return;
  }
  lwip_snat_watch_netif(slot, netif);
}

/** Nothing per packet: lwip_snat_netif_event() watched every change (the timer also looks). */
#define LWIP_SNAT_WATCH(idx, addr) do { } while (0)
#else
/** lwip_snat_watch() called only when @p addr is not the one seen: per packet, a compare. */
#define LWIP_SNAT_WATCH(idx, addr) \
  do { \
    u8_t watch_idx_ = (idx); \
    u8_t watch_slot_ = (u8_t)(watch_idx_ - 1u); \
    u32_t watch_addr_ = (addr); \
    if ((watch_slot_ < LWIP_SNAT_NETIF_SLOTS) && (lwip_snat_seen_addr[watch_slot_] != watch_addr_)) { \
      lwip_snat_watch(watch_slot_, watch_addr_); \
    } \
  } while (0)
#endif

/**
 * lwip_snat_watch_netif() for every watched netif index, including netifs that went down or were
 * removed. One loop for the timer and lwip_snat_start(): smaller than two.
 */
static void
lwip_snat_watch_all(void)
{
  unsigned slot;

  for (slot = 0; slot < LWIP_SNAT_NETIF_SLOTS; slot++) {
    lwip_snat_watch_netif(slot, netif_get_by_index((u8_t)(slot + 1u)));
  }
}

/**
 * ip4_addr_isbroadcast(): the same tests, in an order that answers an ordinary unicast address
 * first (its host bits are not all ones), and the netif's broadcast flag last, as the answer
 * (tested before the addresses, its 0 was kept in a register as the answer "no": 10 bytes
 * more). The hook asks it of every netif for the source and of several for the destination,
 * mostly through LWIP_SNAT_IS_BROADCAST().
 */
static int
lwip_snat_is_broadcast(const ip4_addr_t *addr, const struct netif *netif)
{
  u32_t a = ip4_addr_get_u32(addr);
  u32_t mask = ip4_addr_get_u32(netif_ip4_netmask(netif));
  u32_t own = ip4_addr_get_u32(netif_ip4_addr(netif));

  if ((a == IPADDR_ANY) || (a == IPADDR_BROADCAST)) {
    return 1;
  }
  if (((a | mask) != IPADDR_BROADCAST) || (a == own) || ((a & mask) != (own & mask))) {
    return 0;
  }
  return (netif->flags & NETIF_FLAG_BROADCAST) != 0;
}

/** True when every host bit of @p addr under @p netif's mask is set: what a broadcast of the
 * netif other than 0.0.0.0 needs, tested in line before lwip_snat_is_broadcast() is called. */
#define LWIP_SNAT_HOST_BITS_SET(addr, netif) \
  ((ip4_addr_get_u32(addr) | ip4_addr_get_u32(netif_ip4_netmask(netif))) == IPADDR_BROADCAST)

/**
 * lwip_snat_is_broadcast(), answered without a call for what is no broadcast of @p netif by its
 * host bits alone (an ordinary unicast address): the scans of the netifs ask it of each.
 */
#define LWIP_SNAT_IS_BROADCAST(addr, netif) \
  (((ip4_addr_get_u32(addr) == IPADDR_ANY) || LWIP_SNAT_HOST_BITS_SET(addr, netif)) && \
   lwip_snat_is_broadcast((addr), (netif)))

/** lwip_snat_netif_accepts()'s answer for a broadcast address of the netif. */
#define LWIP_SNAT_ACCEPTS_BROADCAST 2

/** ip4_input_accept(): @p dest is an address of @p netif: 1 for a unicast one,
 * LWIP_SNAT_ACCEPTS_BROADCAST for its broadcast (0: none), so that the caller need not ask
 * lwip_snat_is_broadcast() again which it was. */
static int
lwip_snat_netif_accepts(struct netif *netif, const ip4_addr_t *dest)
{
  if (!netif_is_up(netif) || ip4_addr_isany_val(*netif_ip4_addr(netif))) {
    return 0;
  }
  if (ip4_addr_cmp(dest, netif_ip4_addr(netif))) {
    return 1;
  }
  /* (LWIP_SNAT_IS_BROADCAST() without its 0.0.0.0 test: lwip_snat_find_route(), the one
   * caller, returned for that destination before, whose broadcast test answers it) */
  if (LWIP_SNAT_HOST_BITS_SET(dest, netif) && lwip_snat_is_broadcast(dest, netif)) {
    return LWIP_SNAT_ACCEPTS_BROADCAST;
  }
#if LWIP_AUTOIP
  if (autoip_accept_packet(netif, dest)) {
    return 1;
  }
#endif
  return 0;
}

/** True for an address's first byte @p b (a u8_t) that starts none of the nets 0/8, loopback
 * (127/8) and 224/3 (multicast, class E): the source test of what the core may translate, and
 * part of the destination test of what the hook routes. (0 and 224 up in one compare of b - 1
 * as a word: gcc's own form of the two tests narrowed the difference to a byte first, and kept
 * three compares where b was loaded; full build 20 bytes less, the quiet path 2 instructions.) */
#define LWIP_SNAT_ORDINARY_NET(b) (LWIP_SNAT_UNICAST_NET(b) && ((b) != IP_LOOPBACKNET))
/** True for an address's first byte @p b that starts none of 0/8 and 224/3: 1 to 223, one compare
 * of b - 1 as a word. */
#define LWIP_SNAT_UNICAST_NET(b) ((u32_t)(b) - 1u < 223u)

/** 1 where lwip_snat_find_route() answers a loopback destination 0 before it asks whether the
 * packet can be forwarded, which then need not test net 127 again (LWIP_SNAT_CAN_FORWARD()):
 * without the hook's forwarding and a canforward hook (a refusal is answered 0 then too), and
 * where no loopback netif takes such an address. One condition for both places, so that the
 * shorter test is never compiled without the answer before it. */
#if !LWIP_SNAT_FORWARD && !defined(LWIP_HOOK_IP4_CANFORWARD) && (!LWIP_NETIF_LOOPBACK || LWIP_HAVE_LOOPIF)
#define LWIP_SNAT_LOOPBACK_ANSWERED 1
#else
#define LWIP_SNAT_LOOPBACK_ANSWERED 0
#endif

/** True for a destination (an ip4_addr_t *) the hook routes: none of 0/8, loopback, multicast,
 * class E or link-local. A route is remembered only for such a destination, so a remembered
 * route stands for this test (lwip_snat_route_remembered()). */
#define LWIP_SNAT_DEST_ROUTABLE(dest) \
  (LWIP_SNAT_ORDINARY_NET(((const u8_t *)(dest))[0]) && !ip4_addr_islinklocal(dest))

#if LWIP_SNAT_QUIET_PATH || defined(LWIP_HOOK_IP4_CANFORWARD)
/**
 * ip4_canforward(), with the firmware's LWIP_HOOK_IP4_CANFORWARD called as lwIP calls it,
 * and the link-local test of ip4_forward(). lwIP calls the hook with ip_data set; here it is
 * not set yet, so such a hook must decide on its arguments (p, addr) alone.
 */
static int
lwip_snat_can_forward(struct pbuf *p, const ip4_addr_t *dest)
{
  u32_t addr = LWIP_SNAT_SWAP(ip4_addr_get_u32(dest));
#ifdef LWIP_HOOK_IP4_CANFORWARD
  int ret;
#endif

  /* ip4_forward(): RFC 3927 2.7, whatever ip4_canforward() says */
  if (ip4_addr_islinklocal(dest)) {
    return 0;
  }
#ifdef LWIP_HOOK_IP4_CANFORWARD
  ret = LWIP_HOOK_IP4_CANFORWARD(p, addr);
  if (ret >= 0) {
    return ret;
  }
#endif
  if (p->flags & (PBUF_FLAG_LLBCAST | PBUF_FLAG_LLMCAST)) {
    return 0;
  }
  /* multicast and class E (224/3), and net 0, in one compare: addr - 1.0.0.0 wraps net 0 up
   * past 223.255.255.255 (net 0's own compare gone: full build 4 bytes less) */
  if ((addr - 0x01000000u) >= 0xDF000000u) {
    return 0;
  }
  if (IP_CLASSA(addr) && ((addr & IP_CLASSA_NET) == ((u32_t)IP_LOOPBACKNET << IP_CLASSA_NSHIFT))) {
    return 0;
  }
  return 1;
}
#endif

#ifdef LWIP_HOOK_IP4_CANFORWARD
#define LWIP_SNAT_CAN_FORWARD_ROUTED(p, dest) lwip_snat_can_forward(p, dest)
#else
/**
 * lwip_snat_can_forward() in line for a destination known to be no multicast, loopback or
 * link-local address (lwip_snat_forward_quietly() routed it, or a remembered route says so):
 * what is left of ip4_canforward() is the link-layer broadcast/multicast flags, class E and
 * net 0.
 */
#define LWIP_SNAT_CAN_FORWARD_ROUTED(p, dest) \
  ((((p)->flags & (PBUF_FLAG_LLBCAST | PBUF_FLAG_LLMCAST)) == 0) && (((const u8_t *)(dest))[0] != 0) && \
   (((const u8_t *)(dest))[0] < 240))
#endif

#if LWIP_SNAT_QUIET_PATH || defined(LWIP_HOOK_IP4_CANFORWARD)
/** ip4_canforward() and the link-local test of ip4_forward() for a packet to @p dest, given the
 * route lwip_snat_forward_quietly() handed on (@p route, NULL when none). */
#define LWIP_SNAT_CAN_FORWARD(p, dest, route) \
  (((route) != NULL) ? LWIP_SNAT_CAN_FORWARD_ROUTED(p, dest) : lwip_snat_can_forward(p, dest))
#else
/** The same without the quiet path, which is what hands on a route: never one here, so the
 * destination test of a packet the hook routes and the rest of ip4_canforward() answer it
 * (lwip_snat_can_forward()'s tests of the address as two compares of the first byte: minimal
 * build 16 bytes less. With the quiet path gcc's jump threading on @p route copied the route's
 * stores after such a test: full build 52 bytes more; or as one expression for both, 20 less
 * but 1 to 4 instructions more on the M4's forwarding rows.) */
#if LWIP_SNAT_LOOPBACK_ANSWERED
/* (lwip_snat_find_route() answered a loopback destination before it asks:
 * LWIP_SNAT_DEST_ROUTABLE() without its test of net 127, which gcc did not see was made;
 * minimal build 4 bytes less) */
#define LWIP_SNAT_CAN_FORWARD(p, dest, route) \
  (LWIP_SNAT_UNICAST_NET(((const u8_t *)(dest))[0]) && !ip4_addr_islinklocal(dest) && LWIP_SNAT_CAN_FORWARD_ROUTED(p, dest))
#else
#define LWIP_SNAT_CAN_FORWARD(p, dest, route) \
  (LWIP_SNAT_DEST_ROUTABLE(dest) && LWIP_SNAT_CAN_FORWARD_ROUTED(p, dest))
#endif
#endif

/**
 * True when the packet's source is a broadcast address of one of the router's netifs (other
 * than 0.0.0.0, which DHCP clients send from and the core handles). ip4_input() drops a
 * broadcast source (RFC 1122 3.2.1.3) but checks only the input netif's, and only after this
 * hook: translated first, such a packet would leave by the WAN.
 */
static int
lwip_snat_from_broadcast(const u8_t *bytes)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;
  struct netif *n;
  ip4_addr_t src;

  ip4_addr_copy(src, iphdr->src);
  /* The host bits of a broadcast address are all ones, and every netmask but /32 (whose netif
   * has no broadcast address) leaves the lowest bit to the host: an even address is none
   * (0.0.0.0 among them: no test of its own). */
  if ((ip4_addr_get_u32(&src) & PP_HTONL(1u)) == 0) {
    return 0;
  }
#if LWIP_SNAT_ROUTE_CACHE
  /* (the last source found to be none, a remote the router routes to, an inside host it routed
   * a reply to: no broadcast address, which depends on no netif_default) */
  if ((ip4_addr_get_u32(&src) == lwip_snat_routes.unicast_source) || LWIP_SNAT_ROUTE_REMEMBERED(&src)) {
    return 0;
  }
#endif
  /* (a source no route is remembered for: the call without the in-line filter) */
  NETIF_FOREACH(n) {
    if (lwip_snat_is_broadcast(&src, n)) {
      return 1;
    }
  }
#if LWIP_SNAT_ROUTE_CACHE
  lwip_snat_routes.unicast_source = ip4_addr_get_u32(&src);
#endif
  return 0;
}

/**
 * The route the hook worked out for the packet in flight, which ip4_forward() looks up again:
 * lwip_snat_ip4_route_src() answers that lookup from here. In one block: the hook and
 * lwip_snat_forward() reach all three from one address (and the hook the NAT's facts about
 * the netifs, kept here with the quiet path).
 */
static struct {
  /** the output netif; NULL when none (cleared when the next packet comes in) */
  struct netif *netif;
  /** the destination it was worked out for (network byte order) */
  u32_t dest;
  /** What the route's lookup ruled out of what ip4_input() does with the destination before it
   * forwards: LWIP_SNAT_ROUTE_BARE (nothing: an address of the router's is possible),
   * LWIP_SNAT_ROUTE_NOT_OURS (the router's addresses and its netifs' broadcasts, multicast,
   * loopback, link-local) or LWIP_SNAT_ROUTE_CHECKED (all: also DHCP, ip4_canforward());
   * LWIP_SNAT_ROUTE_REFUSED: no route to take, ip4_forward() would give the packet up (its netif
   * is the input netif, lwip_snat_not_forwarded()). Read only by lwip_snat_forward() (which
   * never sees LWIP_SNAT_ROUTE_BARE: the route lwIP's ip4_forward() takes after it). */
#if LWIP_SNAT_FORWARD
  u8_t checked;
#endif
#if LWIP_SNAT_QUIET_PATH
  /** The NAT's facts about each netif (lwip_snat_netif_concerns()), fetched on the first packet
   * (here: the hook reaches it from the address it clears the route at). */
  struct lwip_snat_concerns *facts;
#endif
} lwip_snat_in_flight;
#define LWIP_SNAT_ROUTE_BARE 0
#define LWIP_SNAT_ROUTE_NOT_OURS 1
#define LWIP_SNAT_ROUTE_CHECKED 2
#define LWIP_SNAT_ROUTE_REFUSED 3

/** 1 when something reads the route of the packet in flight: lwip_snat_forward(), or lwIP's
 * route lookup through a route hook of the firmware's (which calls lwip_snat_ip4_route_src(),
 * lwip_snat_hook.h). Without either nothing is remembered (the stores would be read by none),
 * and lwip_snat_ip4_route_src() answers NULL, lwIP's own route, as for any packet not routed. */
#if LWIP_SNAT_FORWARD || defined(LWIP_HOOK_IP4_ROUTE_SRC) || defined(LWIP_HOOK_IP4_ROUTE)
#define LWIP_SNAT_IN_FLIGHT_READ 1
#else
#define LWIP_SNAT_IN_FLIGHT_READ 0
#endif

/** Remembers @p netif as the route of the packet in flight to @p dest (network byte order),
 * with what its lookup ruled out (@p checked, lwip_snat_in_flight.checked). */
static void
lwip_snat_remember_route(struct netif *netif, u32_t dest, u8_t checked)
{
#if LWIP_SNAT_IN_FLIGHT_READ
  lwip_snat_in_flight.netif = netif;
  lwip_snat_in_flight.dest = dest;
#else
  LWIP_UNUSED_ARG(netif);
  LWIP_UNUSED_ARG(dest);
#endif
#if LWIP_SNAT_FORWARD
  lwip_snat_in_flight.checked = checked;
#else
  LWIP_UNUSED_ARG(checked);
#endif
}

/**
 * @ingroup lwip_snat
 * LWIP_HOOK_IP4_ROUTE_SRC (opt-in, see lwip_snat_hook.h): the route the hook already worked out
 * for the packet ip4_forward() is forwarding, so that lwIP does not look it up a second time.
 * Answers only ip4_forward()'s own lookup (ip_data's addresses of the packet in flight), once,
 * and only when the destination is still the one routed (a packet translated to another
 * destination is routed by lwIP); NULL (lwIP's ip4_route()) for everything else.
 */
struct netif *
lwip_snat_ip4_route_src(const ip4_addr_t *src, const ip4_addr_t *dest)
{
  struct netif *netif = lwip_snat_in_flight.netif;

  if ((netif == NULL) || (src != ip4_current_src_addr()) || (dest != ip4_current_dest_addr()) ||
      (ip4_addr_get_u32(dest) != lwip_snat_in_flight.dest)) {
    return NULL;
  }
  lwip_snat_in_flight.netif = NULL;
  return netif;
}

/** Fills the output netif's part of the lwip_snat_ctx @p ctx for a route out of @p netif. */
#define LWIP_SNAT_ROUTE_OUT(netif, ctx) \
  do { \
    (ctx)->out_netif_idx = netif_get_index(netif); \
    (ctx)->out_addr = LWIP_SNAT_SWAP(ip4_addr_get_u32(netif_ip4_addr(netif))); \
    (ctx)->out_mtu = (netif)->mtu; \
  } while (0)

/**
 * True for a UDP datagram to a port ip4_input() takes on the input netif whatever its
 * destination (DHCP, LWIP_IP_ACCEPT_UDP_PORT), in the @p len bytes at @p bytes.
 */
static int
lwip_snat_link_layer_addressed(const u8_t *bytes, u16_t len)
{
#if LWIP_SNAT_LINK_LAYER_ADDRESSING
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;

  if ((IPH_PROTO(iphdr) == IP_PROTO_UDP) && (len >= IPH_HL_BYTES(iphdr) + 4)) {
    u16_t port;
    MEMCPY(&port, bytes + IPH_HL_BYTES(iphdr) + 2, sizeof(port));
    return IP_ACCEPT_LINK_LAYER_ADDRESSED_PORT(port);
  }
#else
  LWIP_UNUSED_ARG(bytes);
  LWIP_UNUSED_ARG(len);
#endif
  return 0;
}

/**
 * lwip_snat_find_route()'s answer (0) for a packet ip4_forward() gives up on (the canforward
 * rules refuse it, no route, its route leads back out of @p inp) once the hook asked the
 * firmware's canforward hook about it. With LWIP_SNAT_FORWARD it is remembered as refused:
 * lwip_snat_forward() drops it as ip4_forward() does when ip4_input() would get so far, so that
 * lwIP does not ask again.
 */
static int
lwip_snat_not_forwarded(struct netif *inp, const ip4_addr_t *dest)
{
#if LWIP_SNAT_FORWARD
  lwip_snat_remember_route(inp, ip4_addr_get_u32(dest), LWIP_SNAT_ROUTE_REFUSED);
#else
  LWIP_UNUSED_ARG(inp);
  LWIP_UNUSED_ARG(dest);
#endif
  return 0;
}

/**
 * Works out what ip4_input() will do with the packet: deliver it to one of our unicast
 * addresses (local) or forward it (with ip4_forward()'s route). Fills @p ctx and returns 1
 * then; returns 0 for everything else (broadcast, multicast the router takes, DHCP to an
 * unconfigured netif, what ip4_forward() refuses, no route), which lwIP handles or drops
 * without the NAT (what it asked the canforward hook about: lwip_snat_not_forwarded()). @p
 * route is lwIP's route for the destination when the caller already looked it up, NULL when
 * not.
 */
#if !LWIP_SNAT_FORWARD && !LWIP_SINGLE_NETIF
static int lwip_snat_route_unicast(const ip4_addr_t *src, const ip4_addr_t *dest, struct netif **route);
#endif

static int
lwip_snat_find_route(struct pbuf *p, const u8_t *bytes, u16_t len, struct netif *inp, struct netif *route,
                struct lwip_snat_ctx *ctx)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;
  struct netif *netif;
  ip4_addr_t src, dest;

  ip4_addr_copy(src, iphdr->src);
  ip4_addr_copy(dest, iphdr->dest);
  /* A route lwip_snat_forward_quietly() looked up says that no netif takes the destination as
   * its address or broadcast, and that it is no multicast, loopback or link-local address:
   * what ip4_input() would deliver is ruled out, and only the forwarding decision is left. */
  if (route == NULL) {
#if !LWIP_SNAT_QUIET_PATH
    /* (with the quiet path lwip_snat_forward_quietly() answered this route for every packet;
     * told as likely: the minimal build's hook 12 bytes smaller) */
    if (LWIP_SNAT_LIKELY(ip4_addr_cmp(&dest, netif_ip4_addr(inp)) && netif_is_up(inp) && !ip4_addr_isany_val(dest))) {
      /* to inp's own unicast address (what most packets to the router and every reply to a
       * mapping on inp are): ip4_input() takes it on inp */
      netif = inp;
      ctx->route = LWIP_SNAT_ROUTE_LOCAL;
      goto fill;
    }
#endif
#if !LWIP_SNAT_FORWARD && !defined(LWIP_HOOK_IP4_CANFORWARD)
    /* (a multicast destination answered 0 whether inp takes the group or not: without the
     * hook's forwarding a refusal is answered 0 too, and ip4_canforward() refuses multicast
     * when no canforward hook says otherwise; asked before the broadcast call, minimal build
     * 4 bytes less) */
    if (ip4_addr_ismulticast(&dest)) {
      return 0;
    }
#if LWIP_SNAT_LOOPBACK_ANSWERED
    /* (so is a loopback destination other than inp's own address, above: no netif but inp
     * takes it, inp's broadcast is answered 0 below, and ip4_canforward() refuses it; asked
     * here once, LWIP_SNAT_CAN_FORWARD() leaves it out) */
    if (ip4_addr_isloopback(&dest)) {
      return 0;
    }
#endif
#endif
    if (lwip_snat_is_broadcast(&dest, inp)) {
      return 0;
    }
    netif = NULL;
    if (ip4_addr_ismulticast(&dest)) {
      /* ip4_input(): to the router when inp takes the group, otherwise to ip4_forward() */
#if LWIP_IGMP
      if ((inp->flags & NETIF_FLAG_IGMP) && igmp_lookfor_group(inp, &dest)) {
        return 0;
      }
#else
      if (netif_is_up(inp) && !ip4_addr_isany_val(*netif_ip4_addr(inp))) {
        return 0;
      }
#endif
    }
#if LWIP_AUTOIP
    else if (lwip_snat_netif_accepts(inp, &dest)) {
      /* ip4_input(): inp first, then the other netifs (not for loopback addresses); inp's own
       * address and broadcasts were decided above, so only AutoIP's unicast is left here */
      netif = inp;
    }
#endif
    /* (without AutoIP inp takes no address that the two tests above left: its own, up and
     * configured, went to `local`, its broadcasts returned 0) */
#if !LWIP_NETIF_LOOPBACK || LWIP_HAVE_LOOPIF
    else if (!ip4_addr_isloopback(&dest))
#else
    else
#endif
    {
      struct netif *n;
      NETIF_FOREACH(n) {
        int accepted = (n != inp) ? lwip_snat_netif_accepts(n, &dest) : 0;
        if (accepted == LWIP_SNAT_ACCEPTS_BROADCAST) {
          /* a broadcast of another netif's subnet: lwIP delivers it to the router's own stack; a
           * broadcast address is no external address */
          return 0;
        }
        if (accepted) {
          netif = n;
          break;
        }
      }
    }
    if (netif != NULL) {
      ctx->route = LWIP_SNAT_ROUTE_LOCAL;
      goto fill;
    }
  }

  if (lwip_snat_link_layer_addressed(bytes, len)) {
    return 0;
  }

  /* ip4_forward() */
  if (!LWIP_SNAT_CAN_FORWARD(p, &dest, route)) {
    goto refused;
  }
#if LWIP_SNAT_FORWARD || LWIP_SINGLE_NETIF
  /* (a missing route counted in ip.rterr here: the hook drops the packet itself) */
  netif = (route != NULL) ? route : ip4_route_src(&src, &dest);
  LWIP_UNUSED_ARG(src); /* ip4_route_src() ignores it without LWIP_HOOK_IP4_ROUTE_SRC */
#else
  /* (a missing route not counted: ip4_forward() looks it up again and counts it) */
  netif = route;
  if (netif == NULL) {
    /* (an answer of 0 leaves netif NULL: refused below; tests/lwip_router.rs sends one to the
     * address of a netif that is down) */
    (void)lwip_snat_route_unicast(&src, &dest, &netif);
  }
#endif
  if (netif == NULL) {
    goto refused;
  }
#if !IP_FORWARD_ALLOW_TX_ON_RX_NETIF
  if (netif == inp) {
    goto refused;
  }
#endif
  lwip_snat_remember_route(netif, ip4_addr_get_u32(&dest), LWIP_SNAT_ROUTE_CHECKED);
  ctx->route = LWIP_SNAT_ROUTE_FORWARD;
#if LWIP_SNAT_QUIET_PATH
  /* (filled here on their own: every outbound packet of a mapping comes this way with the
   * quiet path's route, and sharing the stores below gives it an instruction more) */
  LWIP_SNAT_ROUTE_OUT(netif, ctx);
  return 1;
#endif
fill:
  /* (one place that fills the rest of ctx for every other route: written once) */
  LWIP_SNAT_ROUTE_OUT(netif, ctx);
  return 1;

refused:
  /* (one place for every refusal: lwip_snat_not_forwarded() in line once) */
  return lwip_snat_not_forwarded(inp, &dest);
}

/* (a build error, a negative array size, unless the hook may write lwip_snat_ctx's
 * in_netif_idx and route as one halfword: the index first, LWIP_SNAT_ROUTE_LOCAL 0) */
typedef char lwip_snat_ctx_in_route_adjacent[
  ((offsetof(struct lwip_snat_ctx, route) == offsetof(struct lwip_snat_ctx, in_netif_idx) + 1)
   && ((offsetof(struct lwip_snat_ctx, in_netif_idx) % 2) == 0) && (LWIP_SNAT_ROUTE_LOCAL == 0)) ? 1 : -1];

/** netif_get_index() of @p netif as a table index: lwIP numbers netifs 0 to 254 (netif_add()),
 * so num + 1 never wraps, and the u8_t netif_get_index() answers needs no narrowing (an
 * instruction less per use). */
#define LWIP_SNAT_INDEX_OF(netif) ((unsigned)(netif)->num + 1u)

#if LWIP_SNAT_FACTS
/**
 * True (and counted in the NAT's `passed`) for a packet on the route @p ctx (from @p inp, its
 * input netif) that is none of the NAT's business, decided on the bits the core keeps per netif
 * without calling it: the core's own test (src/nat/quiet.rs), which it makes again for what the
 * hook hands it. Forwarded: no rule names the input netif, and none names the output netif nor
 * may it hold sessions; to the router on the input netif: it holds no session or port forward
 * and is no rule's outside; to the router on another netif: neither is named by a rule, the
 * input is no outside, the other holds no session or port forward. Never a fragment (the core
 * may hold the rest of its datagram), and a forwarded one comes from no martian source (0/8,
 * 127/8, 224/3), which the core drops. Its header checksum and lengths are left to lwIP, which
 * checks them.
 */
static int
lwip_snat_unconcerned(const u8_t *bytes, const struct netif *inp, const struct lwip_snat_ctx *ctx)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;
#if LWIP_SNAT_QUIET_PATH
  /* (the table lwip_snat_forward_quietly() fetched for this packet, which it always runs
   * before: a load, no call, after which ctx's fields were read again; full build 4 bytes
   * less) */
  struct lwip_snat_concerns *facts = lwip_snat_in_flight.facts;
#else
  /* (the same table, asked for on this rarer path: lwip_snat_in_flight keeps it only with the
   * quiet path) */
  struct lwip_snat_concerns *facts = lwip_snat_netif_concerns();
#endif
  u8_t in_bits, out_bits;

  if ((IPH_OFFSET(iphdr) & PP_HTONS(IP_MF | IP_OFFMASK)) != 0) {
    return 0;
  }
  if (ctx->route == LWIP_SNAT_ROUTE_FORWARD) {
    if (!LWIP_SNAT_ORDINARY_NET(bytes[12])) {
      return 0;
    }
    in_bits = LWIP_SNAT_CONCERN_NAMED;
    out_bits = LWIP_SNAT_CONCERN_NAMED | LWIP_SNAT_CONCERN_SESSIONS;
#if !LWIP_SNAT_QUIET_PATH || LWIP_AUTOIP
    /* (with the quiet path and without AutoIP never asked: lwip_snat_forward_quietly() routes
     * every packet to inp's own address, and lwip_snat_find_route()'s scan leaves inp out) */
  } else if (ctx->out_netif_idx == ctx->in_netif_idx) {
    in_bits = LWIP_SNAT_CONCERN_SESSIONS | LWIP_SNAT_CONCERN_PORTMAPPED | LWIP_SNAT_CONCERN_OUTSIDE;
    out_bits = 0;
#endif
  } else {
    in_bits = LWIP_SNAT_CONCERN_NAMED | LWIP_SNAT_CONCERN_OUTSIDE;
    out_bits = LWIP_SNAT_CONCERN_NAMED | LWIP_SNAT_CONCERN_SESSIONS | LWIP_SNAT_CONCERN_PORTMAPPED;
  }
#if LWIP_SNAT_QUIET_PATH
  /* (the input netif's index from inp, not narrowed to a byte on the way as ctx's copy of it
   * is, held in a register once no call makes it read again; an instruction less for every
   * packet routed through lwip_snat_find_route()) */
  if (((facts->netif[LWIP_SNAT_INDEX_OF(inp)] & in_bits) != 0) ||
      ((facts->netif[ctx->out_netif_idx] & out_bits) != 0)) {
#else
  LWIP_UNUSED_ARG(inp);
  if (((facts->netif[ctx->in_netif_idx] & in_bits) != 0) || ((facts->netif[ctx->out_netif_idx] & out_bits) != 0)) {
#endif
    return 0;
  }
  facts->passed++;
  return 1;
}
#endif /* LWIP_SNAT_FACTS */

/**
 * lwIP's ip4_route_src() for a destination that is no multicast or loopback address, made in
 * the one scan of the netifs that also rules out their addresses and broadcasts: returns 0 when
 * @p dest is an address or a broadcast address of one of them (the route is then not looked
 * up, and @p *route is left as it was: lwip_snat_find_route() relies on it), 1 otherwise with
 * @p *route set to
 * what ip4_route_src() returns (firmware route hooks called as lwIP calls them; a missing route is
 * not counted: lwIP's own lookup counts it once). The quiet test pays one scan, not two and two
 * calls.
 */
/* Before the hook remembers a route for the packet in flight, lwip_snat_ip4_route_src() answers
 * NULL: a firmware whose LWIP_HOOK_IP4_ROUTE_SRC is that function alone (lwip_snat_hook.h) has
 * the call expanded away here; any other route hook is called. */
#define lwip_snat_ip4_route_src(src, dest) ((void)(src), (void)(dest), (struct netif *)NULL)
static int
lwip_snat_route_unicast(const ip4_addr_t *src, const ip4_addr_t *dest, struct netif **route)
{
#if LWIP_SINGLE_NETIF
  struct netif *n;

  NETIF_FOREACH(n) {
    if (ip4_addr_cmp(dest, netif_ip4_addr(n)) || LWIP_SNAT_IS_BROADCAST(dest, n)) {
      return 0;
    }
  }
  *route = ip4_route_src(src, dest);
  LWIP_UNUSED_ARG(src); /* ip4_route_src() ignores it without LWIP_HOOK_IP4_ROUTE_SRC */
  return 1;
#else
  struct netif *n, *subnet = NULL;
  /* (the destination copied, so that no store through @p route can reach what the scan reads:
   * called out of line, it then takes the address by value, and its callers keep none on the
   * stack for it; minimal build 4 bytes less) */
  ip4_addr_t to = *dest;
  u32_t d = ip4_addr_get_u32(&to);

  NETIF_FOREACH(n) {
    u32_t own = ip4_addr_get_u32(netif_ip4_addr(n));
    if ((d == own) || LWIP_SNAT_IS_BROADCAST(&to, n)) {
      return 0;
    }
    /* ip4_route(): the first netif up, with link and address, whose subnet (or point-to-point
     * peer) the destination is (tested first: what most netifs fail) */
    if ((subnet == NULL) &&
        ((((d ^ own) & ip4_addr_get_u32(netif_ip4_netmask(n))) == 0) ||
         (((n->flags & NETIF_FLAG_BROADCAST) == 0) && (d == ip4_addr_get_u32(netif_ip4_gw(n))))) &&
        netif_is_up(n) && netif_is_link_up(n) && (own != IPADDR_ANY)) {
      subnet = n;
    }
  }
#ifdef LWIP_HOOK_IP4_ROUTE_SRC
  if (!ip4_addr_isany(src)) {
    *route = LWIP_HOOK_IP4_ROUTE_SRC(src, dest);
    if (*route != NULL) {
      return 1;
    }
  }
#else
  LWIP_UNUSED_ARG(src);
#endif
  *route = subnet;
  if (subnet != NULL) {
    return 1;
  }
#ifdef LWIP_HOOK_IP4_ROUTE_SRC
  *route = LWIP_HOOK_IP4_ROUTE_SRC(NULL, dest);
#elif defined(LWIP_HOOK_IP4_ROUTE)
  *route = LWIP_HOOK_IP4_ROUTE(dest);
#endif
  if (*route != NULL) {
    return 1;
  }
  if ((netif_default == NULL) || !netif_is_up(netif_default) || !netif_is_link_up(netif_default) ||
      ip4_addr_isany_val(*netif_ip4_addr(netif_default))) {
    /* (not counted in ip.rterr: the hook leaves the packet to lwIP, whose lookup counts it) */
    return 1;
  }
  *route = netif_default;
  return 1;
#endif
}
#undef lwip_snat_ip4_route_src

#if LWIP_SNAT_ROUTE_CACHE
/**
 * lwip_snat_route_unicast() for a destination whose route is not remembered (or no longer: a
 * new netif_default forgets every route), remembering the route it finds. An address of the
 * router's or no route is not remembered (looked up each time, as before), nor a destination
 * the hook's callers test for before routing (0/8, loopback, multicast, class E, link-local):
 * a remembered route says they were passed, and the callers test only when it is not.
 */
static int
lwip_snat_route_remembered(const ip4_addr_t *src, const ip4_addr_t *dest, struct netif **route)
{
  int answer;
  /* The destination read once, into a copy no store through @p route can reach: the scan and
   * the entry then take it from a register, and no pointer to it lives across the scan (16 B
   * less here, and the callers hand it over by value: 12 B less in the hook). */
  ip4_addr_t d = *dest;
  /* (the route in a local of its own, handed back whatever the answer: lwip_snat_route_unicast()
   * leaves it as it was when it answers 0, and the entry takes it from a register, not again
   * through @p route: 4 bytes less) */
  struct netif *found;

  if (lwip_snat_routes.memo_default != netif_default) {
    lwip_snat_forget_routes();
    lwip_snat_routes.memo_default = netif_default;
  }
  found = *route;
  answer = lwip_snat_route_unicast(src, &d, &found);
  *route = found;
  if (answer && LWIP_SNAT_DEST_ROUTABLE(&d)) {
    /* (its entry found here, after the scan: before it, its address lived across the scan,
     * 4 bytes more) */
    struct lwip_snat_route_memo *memo = LWIP_SNAT_MEMO_OF(&d);

    memo->dest = ip4_addr_get_u32(&d);
    memo->route = found;
  }
  return answer;
}
/** True when a route to @p dest is remembered under the same netif_default
 * (lwip_snat_forget_routes() forgets them at every other change): then
 * LWIP_SNAT_ROUTE_OF_HIT(dest) is lwip_snat_route_unicast()'s answer (1). */
#define LWIP_SNAT_ROUTE_HIT(dest) \
  ((lwip_snat_routes.memo_default == netif_default) && LWIP_SNAT_ROUTE_REMEMBERED(dest))
#define LWIP_SNAT_ROUTE_OF_HIT(dest) (LWIP_SNAT_MEMO_OF(dest)->route)
/** lwip_snat_route_unicast() for a destination LWIP_SNAT_ROUTE_HIT() does not answer. */
#define LWIP_SNAT_ROUTE_LOOK_UP(src, dest, found) lwip_snat_route_remembered((src), (dest), (found))
#else
#define LWIP_SNAT_ROUTE_HIT(dest) 0
#define LWIP_SNAT_ROUTE_OF_HIT(dest) ((struct netif *)NULL)
#define LWIP_SNAT_ROUTE_LOOK_UP(src, dest, found) lwip_snat_route_unicast((src), (dest), (found))
#endif
/** lwip_snat_route_unicast() for a caller with no tests of its own, on a rare path: looked up
 * (and remembered) out of line, without the in-line test of LWIP_SNAT_ROUTE_HIT(). */
#define LWIP_SNAT_ROUTE_UNICAST(src, dest, found) LWIP_SNAT_ROUTE_LOOK_UP((src), (dest), (found))

/** lwip_snat_forward_quietly()'s answer for a packet it passed to the router itself. */
#define LWIP_SNAT_QUIET_TO_ROUTER 2
/** lwip_snat_forward_quietly()'s answer for a packet to the input netif's own address (up and
 * configured: ip4_input() takes it there) that concerns the NAT (the netif holds sessions or
 * port forwards, or is a rule's outside) or is a fragment: routed to the router on it without
 * more tests (the only place that routes it there when the quiet path is compiled in). */
#define LWIP_SNAT_QUIET_TO_ROUTER_CONCERNED 3

#if LWIP_SNAT_QUIET_PATH
/**
 * The short way for a packet forwarded between netifs the NAT has nothing to do with, before
 * the route work of lwip_snat_find_route(): no rule names the input netif, the packet is no
 * fragment, comes from no martian source and is addressed to no multicast, link-local or
 * loopback address and to no address of the router's netifs; then lwIP's route for it (the
 * lookup ip4_forward() makes) decides: an output netif other than @p inp that no rule names
 * and that holds no session. Everything else lwIP could do with such a packet (deliver a
 * broadcast, refuse to forward it) the full way leaves to lwIP too. Returns 1 when it passed
 * the packet (counted in `passed`), LWIP_SNAT_QUIET_TO_ROUTER when it passed one to the input
 * netif's own address, LWIP_SNAT_QUIET_TO_ROUTER_CONCERNED for any other packet to that address
 * (up and configured); 0 otherwise, with @p *route set to the route it looked up
 * (NULL when none), for lwip_snat_find_route() to reuse: set, it also says that the packet is
 * addressed to no netif's own or broadcast address, no multicast, loopback or link-local
 * address, and that the forwarding concerns the NAT (a rule names @p inp, or the route's netif
 * is named or holds sessions, or the route leads back out of @p inp, or the source is martian:
 * the core's to drop).
 */
static int
lwip_snat_forward_quietly(const u8_t *bytes, struct netif *inp, struct netif **route)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;
  struct netif *route_found;
  ip4_addr_t src, dest;
  u8_t in_facts;
  /* (read once: the table does not move once fetched) */
  struct lwip_snat_concerns *facts = lwip_snat_in_flight.facts;

  *route = NULL;
  if (facts == NULL) {
    facts = lwip_snat_netif_concerns();
    lwip_snat_in_flight.facts = facts;
  }
  /* (indexed by a word, not netif_get_index()'s byte: no narrowing) */
  in_facts = facts->netif[LWIP_SNAT_INDEX_OF(inp)];
  ip4_addr_copy(dest, iphdr->dest);
  /* (0.0.0.0, inp's address while unconfigured, goes on to the tests below, which refuse it
   * too: no route is remembered for it, and every netif's broadcast test takes it) */
  if (ip4_addr_cmp(&dest, netif_ip4_addr(inp)) && !ip4_addr_isany_val(dest)) {
    /* to inp's own address, which ip4_input() takes on inp when it is up: lwip_snat_unconcerned()'s
     * test for that route, made here without working the route out (also for a fragment, which
     * it never passes: lwip_snat_find_route() need not look for this route) */
    if (!netif_is_up(inp)) {
      return 0;
    }
    /* (a rule that names inp does not concern it: lwip_snat_unconcerned() passes that too) */
    if (((in_facts & (LWIP_SNAT_CONCERN_SESSIONS | LWIP_SNAT_CONCERN_PORTMAPPED | LWIP_SNAT_CONCERN_OUTSIDE)) == 0) &&
        ((IPH_OFFSET(iphdr) & PP_HTONS(IP_MF | IP_OFFMASK)) == 0)) {
      facts->passed++;
      return LWIP_SNAT_QUIET_TO_ROUTER;
    }
    return LWIP_SNAT_QUIET_TO_ROUTER_CONCERNED;
  }
  if ((IPH_OFFSET(iphdr) & PP_HTONS(IP_MF | IP_OFFMASK)) != 0) {
    return 0;
  }
  /* (a remembered route is taken in a register, not through the address the lookup writes
   * to; the caller's own tests of the destination made only when it is not remembered: a
   * remembered destination passed them) */
  if (LWIP_SNAT_ROUTE_HIT(&dest)) {
    route_found = LWIP_SNAT_ROUTE_OF_HIT(&dest);
  } else {
    struct netif *looked_up;
    if (ip4_addr_ismulticast(&dest) || ip4_addr_islinklocal(&dest) || ip4_addr_isloopback(&dest)) {
      return 0;
    }
    ip4_addr_copy(src, iphdr->src);
    if (!LWIP_SNAT_ROUTE_LOOK_UP(&src, &dest, &looked_up)) {
      return 0;
    }
    route_found = looked_up;
  }
  /* (the source tested last: a forwarding the NAT translates needs no look at it here, the core
   * drops a martian source whatever the route) */
  if ((route_found != NULL) && (route_found != inp) && ((in_facts & LWIP_SNAT_CONCERN_NAMED) == 0) &&
      ((facts->netif[LWIP_SNAT_INDEX_OF(route_found)] & (LWIP_SNAT_CONCERN_NAMED | LWIP_SNAT_CONCERN_SESSIONS)) ==
       0) &&
      LWIP_SNAT_ORDINARY_NET(bytes[12])) {
    lwip_snat_remember_route(route_found, ip4_addr_get_u32(&dest), LWIP_SNAT_ROUTE_NOT_OURS);
    facts->passed++;
    return 1;
  }
  /* a route for lwip_snat_find_route(), which then leaves out its own lookups (also for an input
   * netif a rule names, or a martian source: what the NAT translates or drops is forwarded or
   * dropped after this one scan) */
  *route = route_found;
  return 0;
}
#else
/* Without the quiet path every packet the hook routes goes to the core, which makes the same
 * quiet test (src/nat/quiet.rs) and counts what it passes: no shortcut, no route handed on. */
#define lwip_snat_forward_quietly(bytes, inp, route) ((void)(bytes), (void)(inp), *(route) = NULL, 0)
#endif

/** lwip_snat_forward()'s @p translated for a packet the core translated in its own first pbuf
 * (not in a contiguous copy): the core checked its header and total lengths against that pbuf
 * and the chain (whatever took it, fast path or general pipeline), and translation keeps them. */
#define LWIP_SNAT_TRANSLATED_IN_PLACE 2

/** 1 where 32-bit loads from any address are single instructions (the IP header is often only
 * 2-byte aligned): a header is then read as 32-bit words, elsewhere as 16-bit ones or, at a
 * 4-byte aligned address, as words. */
#ifndef LWIP_SNAT_UNALIGNED_LOADS
#if defined(__ARM_FEATURE_UNALIGNED) || defined(__x86_64__) || defined(__i386__)
#define LWIP_SNAT_UNALIGNED_LOADS 1
#else
#define LWIP_SNAT_UNALIGNED_LOADS 0
#endif
#endif

/** 1 when the 32-bit words at @p bytes may be loaded one instruction each. */
#define LWIP_SNAT_WORDS_AT(bytes) (LWIP_SNAT_UNALIGNED_LOADS || ((((mem_ptr_t)(bytes)) & 3) == 0))

#if LWIP_SNAT_FORWARD
#if CHECKSUM_CHECK_IP
/**
 * inet_chksum(@p bytes, @p hlen) == 0, ip4_input()'s header checksum test, summed in line (the
 * one's complement sum does not depend on the word size or byte order): where words load from
 * any address, the header options and all (@p hlen is 20 or more, a multiple of 4, within the
 * first pbuf: lwip_snat_input_ok() checked it; the options by the same loop rather than by
 * inet_chksum(): thumbv7em full build 24 bytes and 3 instructions less); elsewhere a header at
 * an even address as 16-bit halfwords, one at an odd address by lwIP.
 */
static int
lwip_snat_header_sum_ok(const u8_t *bytes, u16_t hlen)
{
  u32_t sum;
#if LWIP_SNAT_UNALIGNED_LOADS
  u32_t part;
  /* (the offset of the next word, from the last down to the second: never 0 on entry, as
   * hlen is 20 or more, and the test for 0 is the decrement's own flags; thumbv7em full build
   * 8 bytes and 4 instructions per header less than a loop up from 4 to hlen) */
  unsigned i = hlen - 4u;

  /* (word by word: one load each, no copy of the header on the stack) */
  MEMCPY(&sum, bytes, sizeof(sum));
  do {
    MEMCPY(&part, bytes + i, sizeof(part));
    sum += part;
    sum += (sum < part) ? 1u : 0u;
    i -= 4u;
  } while (i != 0);
#else
  /* (halfword by halfword, options and all: at most 30 of them, no carry out of the 32-bit sum;
   * the first halfword, then the offset of the next from the last down to the second, the test
   * for 0 as in the loop above: thumbv6m full build 16 bytes less than a header without options
   * summed up from the first halfword and any other left to inet_chksum()) */
  unsigned i = hlen - 2u;

  if (((mem_ptr_t)bytes & 1) != 0) {
    return inet_chksum(bytes, hlen) == 0;
  }
  sum = *(const u16_t *)(const void *)bytes;
  do {
    sum += *(const u16_t *)(const void *)(bytes + i);
    i -= 2u;
  } while (i != 0);
#endif
  /* (the 16-bit fold and its test in one add: the upper half of sum plus sum turned by 16 bits
   * is the folded sum, end-around carry included, so the fold is 0xFFFF exactly when that
   * total is 0xFFFF0000 or more; the same answer as two folds and a compare for every 32-bit
   * sum, checked exhaustively; full build 12 bytes and 4 instructions less) */
  sum += (sum << 16) | (sum >> 16);
  return sum >= 0xFFFF0000u;
}
#endif

/**
 * ip4_input()'s checks between the hook and its decision to forward that leave the destination
 * aside: the header in the first pbuf and the datagram in the chain (left to the core for a
 * packet @p translated in place), no broadcast (of @p inp) or multicast source (RFC 1122
 * 3.2.1.3, which a translation may have given the packet), a valid header checksum (left to
 * the core for a @p translated packet: it verified it and kept it valid). @p iplen is the
 * header's total length, read by the caller. Returns 1 when they pass, 0 when ip4_input()
 * drops the packet (an answer of its own, not the length: the caller then tests no length
 * for 0, which a datagram translated in place was never tested against here; full build 12
 * bytes and an instruction per forwarded packet less).
 */
static int
lwip_snat_input_ok(struct pbuf *p, struct netif *inp, int translated, u16_t iplen)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)p->payload;
  const u8_t *bytes = (const u8_t *)p->payload;
  u16_t hlen;
  ip4_addr_t src;

  if (translated != LWIP_SNAT_TRANSLATED_IN_PLACE) {
    /* (no test of p->len against IP_HLEN of its own: a header length of IP_HLEN or more within
     * p->len says it, and the two bytes read before it, the header length's and the total
     * length's, are those ip4_input() reads before its own tests; full build 4 bytes and 2
     * instructions less) */
    hlen = IPH_HL_BYTES(iphdr);
    if ((hlen < IP_HLEN) || (hlen > p->len) || (iplen > p->tot_len) || (iplen < hlen)) {
      return 0;
    }
  } else {
    hlen = IP_HLEN; /* (not read: only an untranslated header's checksum is summed) */
  }
  ip4_addr_copy(src, iphdr->src);
  /* (the core translates nothing from a martian source, 0/8 or 224/3, but ICMP errors, and
   * the hook dropped every netif's broadcast source before the core saw the packet) */
  if ((!translated || (IPH_PROTO(iphdr) == IP_PROTO_ICMP)) &&
      ((bytes[12] >= 224) || LWIP_SNAT_IS_BROADCAST(&src, inp))) {
    return 0;
  }
#if CHECKSUM_CHECK_IP
  if (!translated) {
    IF__NETIF_CHECKSUM_ENABLED(inp, NETIF_CHECKSUM_CHECK_IP) {
      if (!lwip_snat_header_sum_ok(bytes, hlen)) {
        return 0;
      }
    }
  }
#else
  LWIP_UNUSED_ARG(translated);
#endif
  return 1;
}

#if LWIP_ICMP
static int lwip_snat_inbound_too_big(struct pbuf *p, const u8_t *bytes, u16_t len, const struct lwip_snat_arrived *arrived);
static void lwip_snat_frag_needed_as_arrived(struct pbuf *p, const struct lwip_snat_arrived *arrived, u16_t mtu);
#endif

/**
 * ip4_input()'s checks after the hook and ip4_forward(), made by the hook for a packet it
 * routed itself, so that lwIP does not do the work again: returns 1 when it took @p p (sent it
 * out of its route, answered TTL 1 with Time Exceeded, fragmented it or answered Fragmentation
 * Needed, or dropped what the canforward rules refuse: ip4_forward()'s ways, after which
 * ip4_input() frees it), 0 with @p p untouched for everything else, which ip4_input() then
 * handles as before (drops and counts a bad header, delivers to the router, forwards what has
 * no route or leads back out of @p inp) without the canforward hook having been asked. The
 * route is the one the hook remembered for the packet's destination; a @p translated packet
 * sent to another destination (inbound) is routed here, as ip4_forward() would route it. The
 * hook calls it for a packet not @p translated only when a route is remembered
 * (lwip_snat_in_flight.netif not NULL), which is then the one for that packet's destination:
 * every lwip_snat_remember_route() is given the destination of the packet in flight, and
 * the hook forgets the route before the next packet.
 * One difference on purpose: lwIP 2.2's ip4_forward() writes 0 over the IP, UDP, TCP and ICMP
 * checksums whenever CHECKSUM_GEN_* is on (lwIP's default), where nothing fills them in again;
 * the hook keeps the checksums valid. A datagram whose bytes as it @p arrived were kept gets
 * Fragmentation Needed quoting them, as the hook answers it in front of lwIP's forwarding.
 */
static int
lwip_snat_forward(struct pbuf *p, struct netif *inp, int translated, const struct lwip_snat_arrived *arrived)
{
  struct ip_hdr *iphdr = (struct ip_hdr *)p->payload;
  const u8_t *bytes = (const u8_t *)p->payload;
  struct netif *netif = lwip_snat_in_flight.netif;
  u16_t iplen;
  u8_t checked;
  ip4_addr_t src, dest;

  iplen = PP_NTOHS(IPH_LEN(iphdr));
  if (!lwip_snat_input_ok(p, inp, translated, iplen)) {
    return 0;
  }
  /* (read after the checks, not where the route is: gcc takes the function's start apart
   * once per value of translated, and a load there is written out in each copy; full build
   * 12 bytes less, 2 instructions more for a quietly routed packet, whose remembered value it
   * no longer knows) */
  checked = lwip_snat_in_flight.checked;
  /* (never for a translated packet: lwip_snat_find_route() remembers a refusal only when it
   * answers 0, and the hook then passes the packet to lwIP without the core; one not
   * translated has its route, netif not NULL, and needs no test of it) */
  if (!translated && (checked == LWIP_SNAT_ROUTE_REFUSED)) {
    /* ip4_forward()'s return_noroute, after the hook asked the canforward hook */
    lwip_snat_in_flight.netif = NULL;
    MIB2_STATS_INC(mib2.ipoutnoroutes);
    pbuf_free(p);
    return 1;
  }
  ip4_addr_copy(src, iphdr->src);
  ip4_addr_copy(dest, iphdr->dest);
  /* (no LWIP_SNAT_ROUTE_BARE here: only lwip_snat_inbound_too_big() remembers one, called from
   * below, after which this function returns; the hook clears the route of every packet. A
   * packet not translated comes with the route remembered for its destination: only a
   * translated one is tested, full build 8 bytes and 5 instructions per quietly routed packet
   * less) */
  if (translated && ((netif == NULL) || (ip4_addr_get_u32(&dest) != lwip_snat_in_flight.dest))) {
    /* a destination the translation gave the packet (its own route for the others), which is
     * none of the router's own addresses (lwip_snat_route_unicast()) */
    struct netif *looked_up;
    int routed = 0;
    /* (a remembered route taken in a register, a looked-up one through an address of its own:
     * netif itself then lives in a register, not at the address the lookup writes to) */
    if (LWIP_SNAT_ROUTE_HIT(&dest)) {
      netif = LWIP_SNAT_ROUTE_OF_HIT(&dest);
      routed = 1;
    } else if (LWIP_SNAT_DEST_ROUTABLE(&dest) && LWIP_SNAT_ROUTE_LOOK_UP(&src, &dest, &looked_up)) {
      netif = looked_up;
      routed = 1;
    }
    if (!routed || (netif == NULL)) {
#if LWIP_ICMP
      /* (an address of the router's or no route: too big as lwIP would route it) */
      if (LWIP_SNAT_ARRIVED_KEPT(arrived) && lwip_snat_inbound_too_big(p, bytes, p->tot_len, arrived)) {
        pbuf_free(p);
        return 1;
      }
#endif
      return 0;
    }
    checked = LWIP_SNAT_ROUTE_NOT_OURS;
#if !IP_FORWARD_ALLOW_TX_ON_RX_NETIF
    /* (only a route looked up here may lead back out of inp: a route remembered for the packet
     * never does, lwip_snat_forward_quietly() remembers none that does and
     * lwip_snat_find_route() refuses one, which is dropped above as LWIP_SNAT_ROUTE_REFUSED) */
    if (netif == inp) {
      return 0;
    }
#endif
  } else if (translated) {
    /* (the route remembered for a translated packet is one lwip_snat_find_route() answered, and
     * it remembers such a route only as LWIP_SNAT_ROUTE_CHECKED: known here, not read again;
     * full build 4 bytes less, and 3 instructions per outbound translated packet, 1 per inbound) */
    checked = LWIP_SNAT_ROUTE_CHECKED;
  }
  /* ip4_input(): DHCP whatever the destination (lwip_snat_find_route() ruled it out for the
   * routes it checked; lwip_snat_route_unicast() the netifs' broadcasts) */
  if ((checked != LWIP_SNAT_ROUTE_CHECKED) && lwip_snat_link_layer_addressed(bytes, p->len)) {
    return 0;
  }
  /* (the quiet path's tests, or those above, ruled out multicast, loopback and link-local; a
   * firmware's canforward hook decides on its arguments alone, lwip_snat_hook.h, so the test
   * comes before ip_data is set: its stores are then written once for every route, where gcc
   * wrote them out on two paths, full build 8 bytes less and 2 instructions for a quietly
   * routed packet. A packet dropped here leaves its route remembered: nothing looks it up
   * before the hook clears it for the next packet, as only ip_data's addresses match it.) */
  if ((checked != LWIP_SNAT_ROUTE_CHECKED) && !LWIP_SNAT_CAN_FORWARD_ROUTED(p, &dest)) {
    /* ip4_forward()'s return_noroute (the hook was asked: lwIP must not ask it again) */
    MIB2_STATS_INC(mib2.ipoutnoroutes);
    pbuf_free(p);
    return 1;
  }
  /* ip4_input() sets these before it forwards; netif->output() sees them (the destination from
   * the local the route test read: the source from the header, which gcc handled in fewer
   * bytes) */
  ip_addr_copy_from_ip4(ip_data.current_iphdr_dest, dest);
  ip_addr_copy_from_ip4(ip_data.current_iphdr_src, iphdr->src);
  /* the route is taken (lwip_snat_ip4_route_src() answers no later lookup with it) */
  lwip_snat_in_flight.netif = NULL;
  /* ip4_input(): trim the link layer's padding */
  if (iplen < p->tot_len) {
    pbuf_realloc(p, iplen);
  }
  /* ip4_forward(), line for line, but for its checksum zeroing */
  IPH_TTL_SET(iphdr, IPH_TTL(iphdr) - 1);
  if (IPH_TTL(iphdr) == 0) {
    MIB2_STATS_INC(mib2.ipinhdrerrors);
#if LWIP_ICMP
    if (IPH_PROTO(iphdr) != IP_PROTO_ICMP) {
      icmp_time_exceeded(p, ICMP_TE_TTL);
    }
#endif
    pbuf_free(p);
    return 1;
  }
  {
    /* (ip4_forward()'s update for the TTL, without its branch: the 1 it adds when the checksum
     * is PP_HTONS(0xffff - 0x100) or more is the carry out of 16 bits of checksum + that + 1) */
    u32_t chksum = IPH_CHKSUM(iphdr);
    chksum += PP_HTONS(0x100) + ((chksum + PP_HTONS(0x100) + 1u) >> 16);
    IPH_CHKSUM_SET(iphdr, (u16_t)chksum);
  }
  if ((netif->mtu != 0) && (iplen > netif->mtu)) {
#if LWIP_ICMP
    if (translated && LWIP_SNAT_ARRIVED_KEPT(arrived)) {
      /* (answered, and counted, as the hook answers it in front of lwIP's forwarding) */
      lwip_snat_frag_needed_as_arrived(p, arrived, netif->mtu);
      pbuf_free(p);
      return 1;
    }
#endif
    IP_STATS_INC(ip.fw);
    MIB2_STATS_INC(mib2.ipforwdatagrams);
    IP_STATS_INC(ip.xmit);
    if ((IPH_OFFSET(iphdr) & PP_HTONS(IP_DF)) == 0) {
#if IP_FRAG
      ip4_frag(p, netif, ip4_current_dest_addr());
#endif
    } else {
#if LWIP_ICMP
      icmp_dest_unreach(p, ICMP_DUR_FRAG);
#endif
    }
  } else {
    IP_STATS_INC(ip.fw);
    MIB2_STATS_INC(mib2.ipforwdatagrams);
    IP_STATS_INC(ip.xmit);
    netif->output(netif, p, ip4_current_dest_addr());
  }
  pbuf_free(p);
  return 1;
}
#endif /* LWIP_SNAT_FORWARD */

#if LWIP_ICMP
#if !LWIP_SNAT_FORWARD || !LWIP_SNAT_UNALIGNED_LOADS
/**
 * True when a datagram of @p len bytes is larger than some netif's MTU: only then may an
 * inbound one need Fragmentation Needed once translated, and its header be kept as it arrived.
 */
static int
lwip_snat_exceeds_an_mtu(u16_t len)
{
  struct netif *n;
  /* (len > mtu for an MTU other than 0 in one compare: 0 - 1 wraps to the largest u32_t) */
  u32_t most = (u32_t)len - 1u;

  NETIF_FOREACH(n) {
    if ((u32_t)n->mtu - 1u < most) {
      return 1;
    }
  }
  return 0;
}
#endif /* !LWIP_SNAT_FORWARD || !LWIP_SNAT_UNALIGNED_LOADS */

/**
 * True for an ICMP error (or a later fragment of an ICMP message, which may be one) in the
 * @p len bytes at @p bytes: no ICMP error may be sent about it (RFC 1812 4.3.2.7).
 */
static int
lwip_snat_is_icmp_error(const u8_t *bytes, u16_t len)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;
  u16_t hlen = IPH_HL_BYTES(iphdr);
  u8_t type;

  if (IPH_PROTO(iphdr) != IP_PROTO_ICMP) {
    return 0;
  }
  if (((IPH_OFFSET(iphdr) & PP_HTONS(IP_OFFMASK)) != 0) || (hlen >= len)) {
    return 1;
  }
  type = bytes[hlen];
  return (type == ICMP_DUR) || (type == ICMP_SQ) || (type == ICMP_RD) || (type == ICMP_TE) || (type == ICMP_PP);
}

/**
 * Destination Unreachable, Fragmentation Needed (3/4) with the next-hop MTU (RFC 1191), which
 * lwIP's icmp_dest_unreach() leaves 0. Built like icmp_send_response(): the offending header
 * and 8 bytes of its payload, sent from the address of the netif that routes back. Nothing is
 * sent about an ICMP error.
 */
static void
lwip_snat_send_frag_needed(const u8_t *bytes, u16_t len, u16_t mtu)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;
  struct icmp_echo_hdr *icmphdr;
  struct netif *netif;
  struct pbuf *q;
  ip4_addr_t src, dest;
  u32_t word;
  /* (the datagram's length lowered to its header and 8 bytes: what the quote holds; taken in
   * this order, only the quote lives across the route lookup, where the header length and the
   * length did: 6 bytes less) */
  u16_t quote = len;

  if (IPH_HL_BYTES(iphdr) + LWIP_SNAT_ICMP_QUOTED_DATA < quote) {
    quote = (u16_t)(IPH_HL_BYTES(iphdr) + LWIP_SNAT_ICMP_QUOTED_DATA);
  }
  if (lwip_snat_is_icmp_error(bytes, len)) {
    return;
  }
  ip4_addr_copy(src, iphdr->src);
  ip4_addr_copy(dest, iphdr->dest);
  netif = ip4_route_src(&dest, &src);
  LWIP_UNUSED_ARG(dest);
  if (netif == NULL) {
    return;
  }
  q = pbuf_alloc(PBUF_IP, (u16_t)(sizeof(struct icmp_echo_hdr) + quote), PBUF_RAM);
  if (q == NULL) {
    return;
  }
#if (MEM_ALIGNMENT >= 4) && !LWIP_SNAT_UNALIGNED_LOADS
  /* (a PBUF_RAM payload is aligned to MEM_ALIGNMENT, lwIP's pbuf_alloc(): gcc told so stores
   * the two words one instruction each where words may not go to any address, not by calls
   * to memcpy(); thumbv6m 24 bytes less) */
  icmphdr = (struct icmp_echo_hdr *)LWIP_SNAT_ALIGNED(q->payload, 4);
#else
  icmphdr = (struct icmp_echo_hdr *)q->payload;
#endif
  /* type, code, checksum 0, then the unused 16 bits and the next-hop MTU: two words (the
   * packed header's fields one by one are byte stores) */
  word = PP_HTONL(((u32_t)ICMP_DUR << 24) | ((u32_t)ICMP_DUR_FRAG << 16));
  MEMCPY(icmphdr, &word, sizeof(word));
  word = LWIP_SNAT_SWAP((u32_t)mtu);
  MEMCPY((u8_t *)icmphdr + 4, &word, sizeof(word));
  /* (through icmphdr, which holds q->payload: no reload after the stores) */
  MEMCPY((u8_t *)icmphdr + sizeof(struct icmp_echo_hdr), bytes, quote);
  icmphdr->chksum = inet_chksum(icmphdr, q->len);
  ip4_output_if(q, NULL, &src, ICMP_TTL, 0, IP_PROTO_ICMP, netif);
  pbuf_free(q);
}

#if LWIP_SNAT_FORWARD
/** Keeps what translation may rewrite in the first @p head_len bytes of the datagram at @p bytes. */
static void
lwip_snat_keep_arrived(const u8_t *bytes, u16_t head_len, struct lwip_snat_arrived *arrived)
{
  u16_t hlen;

  /* (the alignment asked first, a constant 1 where words load from any address: where it is
   * not, a header of 20 bytes at an unaligned address shares the general copy below, where
   * asked last gcc wrote that copy out a second time for it, thumbv6m 32 bytes more) */
  if (LWIP_SNAT_WORDS_AT(bytes) && (bytes[0] == 0x45) && (head_len >= IP_HLEN + LWIP_SNAT_ICMP_QUOTED_DATA)) {
    /* (no options: word by word, which compilers do not turn into a loop or a call) */
#if LWIP_SNAT_UNALIGNED_LOADS
    MEMCPY(&arrived->ip[0], bytes + 8, 4);
    MEMCPY(&arrived->ip[1], bytes + 12, 4);
    MEMCPY(&arrived->ip[2], bytes + 16, 4);
    MEMCPY(&arrived->l4[0], bytes + 20, 4);
    MEMCPY(&arrived->l4[1], bytes + 24, 4);
#else
    /* (4-byte aligned: a compiler that cannot load unaligned words would copy bytes) */
    const u32_t *w = (const u32_t *)(const void *)bytes;
    arrived->ip[0] = w[2];
    arrived->ip[1] = w[3];
    arrived->ip[2] = w[4];
    arrived->l4[0] = w[5];
    arrived->l4[1] = w[6];
#endif
    return;
  }
  hlen = IPH_HL_BYTES((const struct ip_hdr *)bytes);
  MEMCPY(arrived->ip, bytes + LWIP_SNAT_ARRIVED_AT, sizeof(arrived->ip));
  if (head_len > hlen) {
    /* (all the transport bytes of a datagram shorter than the quote) */
    MEMCPY(arrived->l4, bytes + hlen, LWIP_MIN((u16_t)(head_len - hlen), (u16_t)sizeof(arrived->l4)));
  }
}

/**
 * Fragmentation Needed with @p mtu about the translated datagram @p p, quoting its header and
 * 8 bytes as they arrived: the translated ones with the @p arrived bytes put back.
 */
static void
lwip_snat_frag_needed_as_arrived(struct pbuf *p, const struct lwip_snat_arrived *arrived, u16_t mtu)
{
  u8_t quote[IP_HLEN_MAX + LWIP_SNAT_ICMP_QUOTED_DATA];
  /* (no test of the copied header: p is a datagram the core translated, so its header is
   * valid, IP_HLEN bytes or more, and p holds all of it and its IP length; the copy then
   * holds the header whole). The arrived transport bytes go in whole, all 8 of them, and len is
   * not cut to the header and 8 bytes: lwip_snat_send_frag_needed() quotes min(len, header + 8)
   * bytes itself, so what lies past them (the translated bytes, or arrived ones past a short
   * datagram's end) is never sent; quote has room for 8 bytes past the longest header. */
  u16_t len = pbuf_copy_partial(p, quote, sizeof(quote), 0);
  u16_t hlen = IPH_HL_BYTES((const struct ip_hdr *)quote);

  MEMCPY(quote + LWIP_SNAT_ARRIVED_AT, arrived->ip, sizeof(arrived->ip));
  MEMCPY(quote + hlen, arrived->l4, sizeof(arrived->l4));
  LWIP_SNAT_DEBUG_ICMP(ICMP_DUR, ICMP_DUR_FRAG, quote, len);
  lwip_snat_send_frag_needed(quote, len, mtu);
}
#else
/** Keeps the quote of the datagram at @p bytes (@p head_len bytes of it at hand: all of it, or
 * a first pbuf that holds its header and 8 bytes more) as it arrived: as much of it as quote
 * holds, not cut to the header and 8 bytes (no header length to work out):
 * lwip_snat_send_frag_needed() quotes no more than those itself. */
static void
lwip_snat_keep_arrived(const u8_t *bytes, u16_t head_len, struct lwip_snat_arrived *arrived)
{
  u16_t len = (u16_t)sizeof(arrived->quote);

  if (len > head_len) {
    len = head_len;
  }
  MEMCPY(arrived->quote, bytes, len);
  arrived->len = len;
}

/**
 * Fragmentation Needed with @p mtu about the datagram the core translated, quoting it as it
 * @p arrived (a datagram the core translated has a valid header, IP_HLEN bytes or more).
 */
static void
lwip_snat_frag_needed_as_arrived(struct pbuf *p, const struct lwip_snat_arrived *arrived, u16_t mtu)
{
  LWIP_UNUSED_ARG(p);
  LWIP_SNAT_DEBUG_ICMP(ICMP_DUR, ICMP_DUR_FRAG, arrived->quote, arrived->len);
  lwip_snat_send_frag_needed(arrived->quote, arrived->len, mtu);
}
#endif /* LWIP_SNAT_FORWARD */

/**
 * An inbound datagram with DF set that the core just translated (@p p, @p len bytes, its
 * payload @p bytes, which the callers hold already: not loaded again), but that is larger
 * than the MTU of the netif leading to the inside host: answers Fragmentation Needed
 * with that MTU, quoting the datagram as it @p arrived (to the external address), instead of
 * letting ip4_forward() quote the inside address with an MTU of 0. Returns 1 when it answered,
 * or when the datagram is an ICMP error, which gets no answer (the caller drops the datagram).
 */
static int
lwip_snat_inbound_too_big(struct pbuf *p, const u8_t *bytes, u16_t len, const struct lwip_snat_arrived *arrived)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;
  struct netif *netif;
  ip4_addr_t src, dest;

  ip4_addr_copy(src, iphdr->src);
  ip4_addr_copy(dest, iphdr->dest);
  /* (a missing route counted by lwIP alone; an address of the router's routed by lwIP) */
  if (!LWIP_SNAT_ROUTE_UNICAST(&src, &dest, &netif)) {
    netif = ip4_route_src(&src, &dest);
  }
  LWIP_UNUSED_ARG(src); /* ip4_route_src() ignores it without LWIP_HOOK_IP4_ROUTE_SRC */
  if (netif == NULL) {
    return 0;
  }
  if ((netif->mtu == 0) || (len <= netif->mtu)) {
    lwip_snat_remember_route(netif, ip4_addr_get_u32(&dest), LWIP_SNAT_ROUTE_BARE);
    return 0;
  }
  lwip_snat_frag_needed_as_arrived(p, arrived, netif->mtu);
  return 1;
}

/** Sends the ICMP error the core asked for, about the packet as it arrived: Time Exceeded
 * (11/0) or Destination Unreachable, Fragmentation Needed (3/4) or another code (3/13, the
 * only other error the core asks for, src/ffi/convert.rs). */
static void
lwip_snat_send_icmp(struct pbuf *p, const u8_t *bytes, u16_t len, const struct lwip_snat_verdict *v)
{
  LWIP_SNAT_DEBUG_ICMP(v->icmp_type, v->icmp_code, bytes, len);
  if (v->icmp_type == ICMP_TE) {
    icmp_time_exceeded(p, (enum icmp_te_type)v->icmp_code);
  } else if (v->icmp_code == ICMP_DUR_FRAG) {
    lwip_snat_send_frag_needed(bytes, len, v->mtu);
  } else {
    icmp_dest_unreach(p, (enum icmp_dur_type)v->icmp_code);
  }
}
#endif /* LWIP_ICMP */

#if LWIP_TCP && defined(LWIP_SNAT_FEATURE_EVICT)
/**
 * Answers a TCP segment of a connection the NAT evicted with an RST to its sender, in the name
 * of its destination, as tcp_input() answers a segment for no connection (RFC 793): sequence
 * number from the segment's acknowledgment, acknowledging all the segment occupies. The sender
 * accepts it, which an RST sent at eviction time with a guessed sequence number would not be.
 * The core asks for it only about a TCP segment it parsed (flow::parse: an IP length within
 * the datagram and a TCP header of 20 bytes or more within that length, in the bytes at
 * @p bytes), so its lengths are not tested again here.
 */
static void
lwip_snat_send_rst(const u8_t *bytes)
{
  const struct ip_hdr *iphdr = (const struct ip_hdr *)bytes;
  const struct tcp_hdr *tcphdr;
  u16_t hlen = IPH_HL_BYTES(iphdr);
#if LWIP_SNAT_QUIET_PATH
  /* (a call, not PP_NTOHS(): with the swap in line GCC 12 -Os gives the hook's quiet path,
   * which this rare path is inlined beside, one more instruction per packet) */
  u16_t ip_len = lwip_ntohs(IPH_LEN(iphdr));
#else
  /* (in line without the quiet path: 26 bytes less on thumbv7em, and the packet path's
   * instructions the same, where the call gave the hook's other paths one or two more) */
  u16_t ip_len = PP_NTOHS(IPH_LEN(iphdr));
#endif
  u16_t thlen, hdrlen_flags;
  u8_t flags;
  u32_t seglen, seqno;
  ip_addr_t src, dest;

  tcphdr = (const struct tcp_hdr *)(bytes + hlen);
  /* (TCPH_HDRLEN_BYTES() and TCPH_FLAGS() of one read, swapped in line) */
  hdrlen_flags = PP_NTOHS(tcphdr->_hdrlen_rsvd_flags);
  thlen = (u16_t)((hdrlen_flags >> 12) << 2);
  flags = (u8_t)(hdrlen_flags & TCP_FLAGS);
  /* (SYN and FIN, bits 1 and 0, count one each: (x + 1) >> 1 counts the bits of a 2-bit x) */
  seglen = (u32_t)(ip_len - hlen - thlen) + (((u32_t)(flags & (TCP_SYN | TCP_FIN)) + 1u) >> 1);
  seqno = (flags & TCP_ACK) ? LWIP_SNAT_SWAP(tcphdr->ackno) : 0;
  ip_addr_copy_from_ip4(src, iphdr->src);
  ip_addr_copy_from_ip4(dest, iphdr->dest);
  tcp_rst(NULL, seqno, LWIP_SNAT_SWAP(tcphdr->seqno) + seglen, &dest, &src, PP_NTOHS(tcphdr->dest),
          PP_NTOHS(tcphdr->src));
}
#endif /* LWIP_TCP && LWIP_SNAT_FEATURE_EVICT */

#if defined(LWIP_SNAT_FEATURE_REASSEMBLY)
/* (only a core with reassembly hands back datagrams and held fragments to feed to lwIP) */
/**
 * Feeds lwIP (LWIP_SNAT_REINJECT, which frees nothing it does not take) a pbuf of @p size
 * bytes that @p copy_out, lwip_snat_reassembled() or lwip_snat_released() (one contract),
 * filled; returns the bytes it fed (not 0: it fed one; the count itself, which the paths hold,
 * is smaller code than a 1 of its own), 0 when the core gave an error or no bytes (any bytes
 * will do: lwip_snat_reassembled() copies the whole datagram or nothing, and a pbuf of the
 * announced length holds exactly it). Out of memory, @p copy_out is told so by a call without
 * a buffer: lwip_snat_released() then discards the rest, lwip_snat_reassembled() refuses it
 * (no change).
 * (One copy-out for both callers: smaller.)
 */
static size_t
lwip_snat_feed_copy(lwip_snat_err_t (*copy_out)(uint8_t *buf, size_t cap, size_t *len), u16_t size,
                    struct netif *inp)
{
  size_t copied = 0;
  struct pbuf *q = pbuf_alloc(PBUF_RAW, size, PBUF_RAM);

  if (q == NULL) {
    (void)copy_out(NULL, 0, &copied);
    return 0;
  }
  /* (copy_out writes at most the q->len bytes it is given: copied is not tested against them;
   * nor is its answer: the C API writes *len only when it answers LWIP_SNAT_OK, so copied is
   * still 0 after an error, tests/lwip/c_api.c checks it) */
  (void)copy_out((uint8_t *)q->payload, q->len, &copied);
  if (copied != 0) {
    pbuf_realloc(q, (u16_t)copied);
    if (LWIP_SNAT_REINJECT(q, inp) == ERR_OK) {
      return copied;
    }
    /* not taken (netif->input's contract): ours to free, and fed all the same */
  }
  /* (one free for both: smaller) */
  pbuf_free(q);
  return copied;
}

/**
 * Feeds the datagram the core just reassembled back to lwIP as one pbuf: it takes the path of
 * an unfragmented datagram (hook, translation, forwarding, fragmentation for the next hop).
 * No test of @p len first: the core announces 1 to 65535 bytes, and a length a u16_t cannot
 * hold would only make lwip_snat_reassembled() refuse the smaller pbuf (nothing fed).
 */
static void
lwip_snat_reinject(u32_t len, struct netif *inp)
{
  /* (all of it: a pbuf of len bytes takes no more) */
  (void)lwip_snat_feed_copy(lwip_snat_reassembled, (u16_t)len, inp);
}
#endif /* LWIP_SNAT_FEATURE_REASSEMBLY */

#if LWIP_UDP || LWIP_TCP
/*
 * Both kinds of pcb open with IP_PCB (local_ip, netif_idx, ...) followed by next, so one walk
 * reads both, each field through its own type at its own offset; only local_port lies elsewhere.
 */
#if LWIP_UDP
#define LWIP_SNAT_PCB_AT(field) offsetof(struct udp_pcb, field)
#else
#define LWIP_SNAT_PCB_AT(field) offsetof(struct tcp_pcb, field)
#endif
#if LWIP_UDP && LWIP_TCP
/* (a build error, a negative array size, where they differ) */
typedef char lwip_snat_pcb_heads_alike[
  ((offsetof(struct udp_pcb, local_ip) == offsetof(struct tcp_pcb, local_ip))
   && (offsetof(struct udp_pcb, netif_idx) == offsetof(struct tcp_pcb, netif_idx))
   && (offsetof(struct udp_pcb, next) == offsetof(struct tcp_pcb, next))) ? 1 : -1];
#endif

#if LWIP_UDP
/** UDP's one list of pcbs, as a table of list heads like lwIP's tcp_pcb_lists. */
static struct udp_pcb **const lwip_snat_udp_pcb_lists[1] = { &udp_pcbs };
#endif

/**
 * Whether a pcb on the @p count lists of @p lists (a table of pointers to the lists' heads:
 * lwip_snat_udp_pcb_lists or tcp_pcb_lists) is bound to @p port (local_port at @p port_at in
 * its pcb) on @p addr (the address of netif @p idx): its local address is that address or any
 * (IPv4 or dual-stack any), and it is not bound to another netif.
 */
static int
lwip_snat_pcbs_hold(const void *lists, size_t count, size_t port_at, u16_t port, u8_t idx, const ip4_addr_t *addr)
{
  const unsigned char *at = (const unsigned char *)lists;
  for (; count != 0; count--, at += sizeof(void *)) {
    const unsigned char *head;
    const unsigned char *pcb;
    memcpy(&head, at, sizeof head);
    memcpy(&pcb, LWIP_SNAT_ALIGNED(head, sizeof(void *)), sizeof pcb);
    for (; pcb != NULL; memcpy(&pcb, LWIP_SNAT_ALIGNED(pcb + LWIP_SNAT_PCB_AT(next), sizeof(void *)), sizeof pcb)) {
      const ip_addr_t *local_ip = (const ip_addr_t *)(const void *)(pcb + LWIP_SNAT_PCB_AT(local_ip));
      u16_t local_port = *(const u16_t *)(const void *)(pcb + port_at);
      u8_t pcb_idx = pcb[LWIP_SNAT_PCB_AT(netif_idx)];
      if ((local_port != port) || ((pcb_idx != NETIF_NO_INDEX) && (pcb_idx != idx))) {
        continue;
      }
      if (IP_IS_ANY_TYPE_VAL(*local_ip)
          || (IP_IS_V4_VAL(*local_ip)
              && (ip4_addr_isany(ip_2_ip4(local_ip)) || ip4_addr_cmp(ip_2_ip4(local_ip), addr)))) {
        return 1;
      }
    }
  }
  return 0;
}
#endif

/**
 * The NAT's port check (lwip_snat_set_port_check()), answered from lwIP's own tables: a UDP
 * pcb (DHCP, DNS and SNTP clients, sockets) or TCP pcb (listening, connected, TIME_WAIT or
 * just bound) on the netif's address or on any address holds its port; an ICMP echo
 * identifier is the router's when LWIP_SNAT_ROUTER_ICMP_ID() says so (lwIP keeps no list).
 */
static int
lwip_snat_router_holds(uint8_t proto, uint8_t netif_idx, uint16_t port)
{
  struct netif *netif = netif_get_by_index(netif_idx);
#if LWIP_UDP || LWIP_TCP
  const void *lists;
  size_t count, port_at;
#endif

  if (proto == LWIP_SNAT_PROTO_ICMP) {
    return LWIP_SNAT_ROUTER_ICMP_ID(port) ? 1 : 0;
  }
  if (netif == NULL) {
    return 0;
  }
#if LWIP_UDP
  if (proto == LWIP_SNAT_PROTO_UDP) {
    lists = lwip_snat_udp_pcb_lists;
    count = 1;
    port_at = offsetof(struct udp_pcb, local_port);
  } else
#endif
#if LWIP_TCP
  if (proto == LWIP_SNAT_PROTO_TCP) {
    lists = tcp_pcb_lists;
    count = NUM_TCP_PCB_LISTS;
    port_at = offsetof(struct tcp_pcb, local_port);
  } else
#endif
  {
    return 0;
  }
#if LWIP_UDP || LWIP_TCP
  return lwip_snat_pcbs_hold(lists, count, port_at, port, netif_idx, netif_ip4_addr(netif));
#endif
}

#if defined(LWIP_SNAT_FEATURE_REASSEMBLY)
/** Bytes of the pbufs that carry the fragments the NAT hands back on LWIP_SNAT_RELEASE. */
#ifndef LWIP_SNAT_RELEASE_PBUF_LEN
#define LWIP_SNAT_RELEASE_PBUF_LEN 1500
#endif

/**
 * Feeds lwIP, one pbuf each, the fragments the core held of a datagram it now leaves to lwIP's
 * own reassembly (they come back through the hook, which passes them). Out of memory: the
 * rest is discarded, and lwIP's reassembly of that datagram times out.
 */
static void
lwip_snat_release_held(struct netif *inp)
{
  while (lwip_snat_feed_copy(lwip_snat_released, LWIP_SNAT_RELEASE_PBUF_LEN, inp)) {
  }
}
#endif /* LWIP_SNAT_FEATURE_REASSEMBLY */

/**
 * A copy of the chained pbuf @p p in one contiguous pbuf, for what the NAT must read whole
 * (ICMP errors, fragments, headers split across pbufs); NULL when out of memory.
 */
static struct pbuf *
lwip_snat_flatten(struct pbuf *p)
{
  struct pbuf *flat = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
  if (flat != NULL) {
    /* (all p->tot_len bytes, which flat holds: pbuf_copy() cannot fail here, and takes
     * fewer arguments than pbuf_copy_partial()) */
    (void)pbuf_copy(flat, p);
    lwip_snat_started.copies++;
  }
  return flat;
}

/**
 * @ingroup lwip_snat
 * Chained datagrams (PBUF_POOL chains) the hook copied into one contiguous pbuf since
 * lwip_snat_start(): ICMP errors, fragments, and those whose IP and transport headers do not
 * fit in the first pbuf. The others are translated in place. Many copies of ordinary traffic
 * mean PBUF_POOL_BUFSIZE is too small to hold the headers.
 */
uint32_t
lwip_snat_hook_copies(void)
{
  return lwip_snat_started.copies;
}

/**
 * @ingroup lwip_snat
 * LWIP_HOOK_IP4_INPUT: runs the packet through the NAT.
 *
 * @param p the received IPv4 packet (p->payload is the IP header)
 * @param inp the netif it arrived on
 * @return 0 to let ip4_input() go on with p (untouched or translated in place),
 *         1 when the hook consumed p (freed it: dropped, answered, held or re-injected)
 */
int
lwip_snat_ip4_input_hook(struct pbuf *p, struct netif *inp)
{
  struct lwip_snat_ctx ctx;
  struct lwip_snat_verdict verdict;
  struct pbuf *flat = NULL;
  struct netif *route;
  lwip_snat_err_t err;
  u8_t *bytes;
  u16_t len;
  /* not 0 once the core translated the packet (it may have a new destination to route):
   * LWIP_SNAT_TRANSLATED_IN_PLACE or 1 (in a contiguous copy) */
  int translated = 0;
  int quiet;
  /* the bytes at @c bytes: all @c len of the datagram, or the first pbuf of a chain */
  u16_t head_len;
#if LWIP_SNAT_DEBUGGING
  struct lwip_snat_endpoints before;
  u32_t created[3], expired[3];
#endif
  /* what translation may rewrite of an inbound DF datagram, for Fragmentation Needed */
  struct lwip_snat_arrived arrived;
  /* 1 for a packet to the router (ctx.route LWIP_SNAT_ROUTE_LOCAL), known where the route is */
  int to_router;

  LWIP_ASSERT_CORE_LOCKED();
#if LWIP_SNAT_IN_FLIGHT_READ
  lwip_snat_in_flight.netif = NULL;
#endif
  if ((p == NULL) || (inp == NULL)) {
    return 0;
  }

  /* A chain (PBUF_POOL) whose first pbuf holds the IP header and 8 bytes more is looked at in
   * place: the core translates it there when the headers decide it, and says when it needs
   * the whole datagram in one span (then, and for a shorter first pbuf, a contiguous copy is
   * processed and written back if translated). */
  len = p->tot_len;
  if (len < IP_HLEN) {
    /* ip4_input() drops it */
    return 0;
  }
  bytes = (u8_t *)p->payload;
  /* (a pbuf's len is never more than its chain's tot_len: all of it when not less) */
  head_len = p->len;
  if ((head_len < len) && ((head_len < IP_HLEN) || (head_len < IPH_HL_BYTES((const struct ip_hdr *)bytes) + 8))) {
    flat = lwip_snat_flatten(p);
    if (flat == NULL) {
      /* cannot look at it, so it must not leave untranslated */
      goto consumed;
    }
    bytes = (u8_t *)flat->payload;
    head_len = len;
  }

  quiet = lwip_snat_forward_quietly(bytes, inp, &route);
  if (quiet == LWIP_SNAT_QUIET_TO_ROUTER) {
    goto pass_unrouted;
  }
  if (quiet == LWIP_SNAT_QUIET_TO_ROUTER_CONCERNED) {
    /* To the router on inp (every reply to a mapping comes this way: the stores in line).
     * in_netif_idx and route are adjacent bytes (lwip_snat_ctx_in_route_adjacent), written as
     * one halfword: inp's index (num + 1, at most 255, from a word that needs no narrowing to
     * a byte) and LWIP_SNAT_ROUTE_LOCAL (0) in the byte order's places (full build 8 bytes
     * less than the route's byte and the index narrowed for two byte stores). */
    u16_t in_local = (u16_t)LWIP_SNAT_INDEX_OF(inp);
#if BYTE_ORDER == BIG_ENDIAN
    in_local = (u16_t)(in_local << 8);
#endif
    MEMCPY((u8_t *)&ctx + offsetof(struct lwip_snat_ctx, in_netif_idx), &in_local, sizeof(in_local));
    LWIP_SNAT_ROUTE_OUT(inp, &ctx);
    to_router = 1;
  } else {
    if (quiet != 0) {
      goto pass;
    }
    if (!lwip_snat_find_route(p, bytes, head_len, inp, route, &ctx)) {
      goto pass;
    }
    ctx.in_netif_idx = netif_get_index(inp);
    /* (a forwarding route lwip_snat_forward_quietly() looked up it found the NAT's business;
     * given one, lwip_snat_find_route() answers nothing but that forwarding) */
#if LWIP_SNAT_QUIET_PATH
    if ((route == NULL) && lwip_snat_unconcerned(bytes, inp, &ctx)) {
      goto pass;
    }
#endif
    to_router = (ctx.route == LWIP_SNAT_ROUTE_LOCAL);
  }
  /* (a packet that concerns no session on inp needs no look at its address) */
  LWIP_SNAT_WATCH(ctx.in_netif_idx, lwip_snat_netif_addr(inp));
  if (lwip_snat_from_broadcast(bytes)) {
#if LWIP_SNAT_FACTS && !LWIP_SNAT_QUIET_PATH
    /* Without the quiet path, what it would have passed before this test is passed here (all
     * it passes but a forwarding back out of inp): the same packets leave, counted the same. */
    if (
#if IP_FORWARD_ALLOW_TX_ON_RX_NETIF
        /* (only then may a forwarding lead back out of inp: lwip_snat_find_route() refuses it else) */
        ((ctx.route != LWIP_SNAT_ROUTE_FORWARD) || (ctx.out_netif_idx != ctx.in_netif_idx)) &&
#endif
        lwip_snat_unconcerned(bytes, inp, &ctx)) {
      goto pass;
    }
#endif
    /* what ip4_input() does for inp's broadcast, for every netif's, before translation (without
     * the NAT's facts, for every packet it routes: no router forwards one from such a source,
     * RFC 1812 5.3.7) */
    IP_STATS_INC(ip.drop);
#if LWIP_SNAT_DEBUGGING
    lwip_snat_endpoints_of(bytes, head_len, &before);
    LWIP_DEBUGF(LWIP_SNAT_DEBUG, ("lwip_snat: drop broadcast_source "LWIP_SNAT_EPS_FMT"\n", LWIP_SNAT_EPS_ARGS(&before)));
#endif
    goto consumed;
  }
  if (ctx.route == LWIP_SNAT_ROUTE_FORWARD) {
    LWIP_SNAT_WATCH(ctx.out_netif_idx, LWIP_SNAT_SWAP(ctx.out_addr));
  }
#if LWIP_ICMP
  /* (the hook's forwarding compares the translated datagram with its route's MTU anyway;
   * lwIP's quotes it translated, so without it only one larger than some MTU is kept) */
  if (to_router && (IPH_OFFSET((const struct ip_hdr *)bytes) & PP_HTONS(IP_DF))
#if !LWIP_SNAT_FORWARD
      && lwip_snat_exceeds_an_mtu(len)
#elif !LWIP_SNAT_UNALIGNED_LOADS
      /* (where words cannot be loaded, kept only when some MTU is smaller than the datagram) */
      && (LWIP_SNAT_WORDS_AT(bytes) || lwip_snat_exceeds_an_mtu(len))
#endif
  ) {
    lwip_snat_keep_arrived(bytes, head_len, &arrived);
  } else {
    LWIP_SNAT_ARRIVED_NOT_KEPT(&arrived);
  }
#else
  LWIP_UNUSED_ARG(to_router);
#endif

#if LWIP_SNAT_DEBUGGING
  lwip_snat_endpoints_of(bytes, head_len, &before);
  lwip_snat_session_counts(created, expired);
#endif
#if !LWIP_SNAT_QUIET_PATH
process:
#endif
  /* (a whole datagram is a head that holds all of it: lwip_snat_process() is this call) */
  err = lwip_snat_process_head(bytes, head_len, len, &ctx, sys_now(), &verdict);
#if !LWIP_SNAT_DEBUGGING
  if (LWIP_SNAT_LIKELY((err == LWIP_SNAT_OK) && (verdict.action == LWIP_SNAT_TRANSLATED))) {
    /* (what nearly every packet of a mapping gets, before the error it cannot have; told as
     * likely: 24 bytes less in the full build, 8 in the minimal) */
    goto translated_verdict;
  }
#endif
  if ((err == LWIP_SNAT_ERR_NEED_WHOLE) && (head_len < len)) {
    flat = lwip_snat_flatten(p);
    if (flat == NULL) {
      goto consumed;
    }
    bytes = (u8_t *)flat->payload;
    head_len = len;
#if !LWIP_SNAT_QUIET_PATH
    /* (the same call again, on the whole datagram: head_len == len now, so once more at most;
     * a call of its own with the quiet path, where the loop costs the established outbound
     * packets an instruction and saves no byte) */
    goto process;
#else
    err = lwip_snat_process_head(bytes, len, len, &ctx, sys_now(), &verdict);
#endif
  }
#if LWIP_SNAT_DEBUGGING
  lwip_snat_debug_verdict(err, &verdict, &before, bytes, head_len, created);
#endif
  if ((err == LWIP_SNAT_OK) && (verdict.action == LWIP_SNAT_TRANSLATED)) {
    /* (what nearly every packet of a mapping gets: asked first, without the switch) */
    goto translated_verdict;
  }
  if (err != LWIP_SNAT_OK) {
    if (err == LWIP_SNAT_ERR_NOT_INIT) {
      goto pass;
    }
    /* e.g. LWIP_SNAT_ERR_BUSY: the NAT could not decide, so the packet must not pass */
    goto consumed;
  }

  if (verdict.action == LWIP_SNAT_PASS) {
    /* (the next most common verdict: one test) */
    goto pass;
  }
  switch (verdict.action) {
#if defined(LWIP_SNAT_FEATURE_REASSEMBLY)
    case LWIP_SNAT_RELEASE:
      lwip_snat_release_held(inp);
      /* (the fragments fed back routed packets of their own) */
      lwip_snat_in_flight.netif = NULL;
      goto pass;
#endif
    case LWIP_SNAT_SEND_ICMP:
#if LWIP_ICMP
      /* icmp_* quote p->payload: give them the contiguous bytes (a first pbuf taken in place
       * holds the IP header and the 8 bytes they quote) */
      lwip_snat_send_icmp((flat != NULL) ? flat : p, bytes, head_len, &verdict);
#endif
      goto consumed;
#if defined(LWIP_SNAT_FEATURE_EVICT)
    /* (a core without `evict` evicts no live connection and asks for no RST) */
    case LWIP_SNAT_SEND_RST:
#if LWIP_TCP
      /* reads the TCP header, which a first pbuf taken in place holds */
      lwip_snat_send_rst(bytes);
#endif
      goto consumed;
#endif
#if defined(LWIP_SNAT_FEATURE_REASSEMBLY)
    case LWIP_SNAT_REASSEMBLED:
      if (flat != NULL) {
        pbuf_free(flat);
      }
      pbuf_free(p);
      lwip_snat_reinject(verdict.len, inp);
      return 1;
#endif
    /* (LWIP_SNAT_TRANSLATED never gets here: taken before the switch; placed after the rare
     * verdicts' cases, the full build's hook is 12 bytes smaller) */
    translated_verdict:
#if LWIP_ICMP && !LWIP_SNAT_FORWARD
      if (LWIP_SNAT_ARRIVED_KEPT(&arrived) && lwip_snat_inbound_too_big((flat != NULL) ? flat : p, bytes, len, &arrived)) {
        goto consumed;
      }
#endif
      if (flat != NULL) {
        /* (flat's len bytes back into p, which holds as many) */
        (void)pbuf_copy(p, flat);
        translated = 1;
      } else {
        translated = LWIP_SNAT_TRANSLATED_IN_PLACE;
      }
      goto pass;
    default: /* LWIP_SNAT_DROP, LWIP_SNAT_HELD: counted (or kept) by the core (a core without
              * reassembly holds nothing and hands nothing back, one without evict asks for no
              * LWIP_SNAT_SEND_RST) */
      goto consumed;
  }

pass:
#if LWIP_SNAT_FORWARD
  /* (told as likely, what a translated or quietly routed packet is: 20 bytes less) */
  if (LWIP_SNAT_LIKELY(((lwip_snat_in_flight.netif != NULL) || translated) &&
                       lwip_snat_forward(p, inp, translated, &arrived))) {
    if (flat != NULL) {
      pbuf_free(flat);
    }
    return 1;
  }
#else
  LWIP_UNUSED_ARG(translated);
#endif
pass_unrouted:
  if (flat != NULL) {
    pbuf_free(flat);
  }
  return 0;

consumed:
  if (flat != NULL) {
    pbuf_free(flat);
  }
  pbuf_free(p);
  return 1;
}

/** Has lwip_snat_tmr() called in LWIP_SNAT_TMR_INTERVAL ms. (Out of line: the timer and
 * lwip_snat_start() each call it; in line twice the call costs more bytes.) */
static LWIP_SNAT_NOINLINE void
lwip_snat_tmr_again(void)
{
  sys_timeout(LWIP_SNAT_TMR_INTERVAL, lwip_snat_tmr, NULL);
}

/** Expires idle mappings and notices address changes, every LWIP_SNAT_TMR_INTERVAL ms. */
static void
lwip_snat_tmr(void *arg)
{
  u32_t now;
#if LWIP_SNAT_DEBUGGING
  u32_t created[3], expired[3];

  lwip_snat_session_counts(created, expired);
#endif
  LWIP_UNUSED_ARG(arg);
  /* (fields written into struct netif directly are seen within one interval; the remembered
   * routes are forgotten) */
  lwip_snat_watch_all();
  now = sys_now();
#if LWIP_SNAT_DEBUGGING && defined(LWIP_SNAT_FEATURE_DUMP)
  /* the same clock as the tick, so what is logged is exactly what it expires */
  (void)lwip_snat_foreach(lwip_snat_debug_expiring, NULL, now);
#endif
  lwip_snat_tick(now);
#if LWIP_SNAT_DEBUGGING
  lwip_snat_debug_expired(expired);
#endif
  lwip_snat_tmr_again();
}

/**
 * @ingroup lwip_snat
 * Starts (or restarts) the NAT: resets all its state with @p cfg and registers its timer.
 * Call it in lwIP's core context once the netifs exist, then add rules.
 *
 * @param cfg settings, or NULL for the defaults (see lwip_snat_config_default()). An all-zero
 *        seed is replaced with one from LWIP_RAND().
 * @return LWIP_SNAT_OK, LWIP_SNAT_ERR_CAPACITY when the caller's lwip_snat.h states other
 *         capacities than the library's, or the error lwip_snat_init() gave (nothing changed
 *         then)
 */
lwip_snat_err_t
(lwip_snat_start)(const struct lwip_snat_config *cfg)
{
  return lwip_snat_start_checked(cfg, LWIP_SNAT_CHECK_CAPACITIES());
}

/**
 * @ingroup lwip_snat
 * What the lwip_snat_start() macro calls: @p capacities is lwip_snat_check_capacities()'s
 * answer for the caller's header; anything but LWIP_SNAT_OK is returned with nothing changed.
 */
lwip_snat_err_t
lwip_snat_start_checked(const struct lwip_snat_config *cfg, lwip_snat_err_t capacities)
{
  struct lwip_snat_config config;
  lwip_snat_err_t err;
  size_t i;

  LWIP_ASSERT_CORE_LOCKED();
  if (capacities != LWIP_SNAT_OK) {
    return capacities;
  }
  if (cfg != NULL) {
    config = *cfg;
  } else {
    lwip_snat_config_default(&config);
  }
#if LWIP_SNAT_UNALIGNED_LOADS
  /* (word by word: four loads, where gcc -Os made a loop of sixteen byte loads; the first
   * word that is not zero ends the test) */
  for (i = 0; i < sizeof(config.seed); i += 4) {
    u32_t word;
    MEMCPY(&word, &config.seed[i], sizeof(word));
    if (word != 0) {
      break;
    }
  }
#else
  /* (byte by byte where a word at any address is a call to memcpy(): thumbv6m 12 bytes less) */
  for (i = 0; i < sizeof(config.seed); i++) {
    if (config.seed[i] != 0) {
      break;
    }
  }
#endif
  if (i == sizeof(config.seed)) {
    /* all zero */
    for (i = 0; i < sizeof(config.seed); i += 4) {
      u32_t r = LWIP_RAND();
      MEMCPY(&config.seed[i], &r, 4);
    }
  }
  err = lwip_snat_init(&config);
  if (err != LWIP_SNAT_OK) {
    return err;
  }
  lwip_snat_set_port_check(lwip_snat_router_holds);
  lwip_snat_started.copies = 0;
  /* (the remembered routes forgotten too) */
  lwip_snat_watch_all();
  if (!LWIP_SNAT_RUNNING()) {
    /* (either marks the shim running: the callback's function, or the flag) */
#if LWIP_NETIF_EXT_STATUS_CALLBACK
    netif_add_ext_callback(&lwip_snat_started.netif_callback, lwip_snat_netif_event);
#else
    lwip_snat_started.running = 1;
#endif
    lwip_snat_tmr_again();
  }
  return LWIP_SNAT_OK;
}

#endif /* LWIP_IPV4 */
