/**
 * @file
 * esp-lwip's NAPT API (include/lwip_snat_compat_napt.h) as thin C over lwip-snat's C API.
 *
 * esp-lwip marks netifs with a napt flag and keys port maps by external address; lwip-snat
 * keys both by netif index. This file keeps the esp-lwip view (which netifs masquerade, the
 * port maps as the caller gave them) and installs its lwip-snat equivalent: a SOURCE rule per
 * NAPT netif, a port forward per map on the netif that holds its external address. A cyclic
 * timer re-resolves addresses, so an address a netif gets later (DHCP) takes effect then.
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */

#include "lwip/opt.h"

#if LWIP_IPV4

#include "lwip_snat_compat_napt.h"
#include "lwip_snat_hook.h"

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/prot/ip.h"
#include "lwip/timeouts.h"

#include <string.h>

#if defined(LWIP_SNAT_FEATURE_PORTMAP)
#define NAPT_PORTMAPS 1
#else
/* A library built without `portmap` has no port forwards: ip_portmap_add() fails. */
#define NAPT_PORTMAPS 0
#endif

/** A port map as ip_portmap_add() got it, and where it is installed. */
struct compat_portmap {
  u32_t maddr; /* network order */
  u32_t daddr; /* network order */
  u16_t mport;
  u16_t dport;
  u8_t proto;
  u8_t valid;
  /** netif index of the installed lwip-snat forward, 0 while none is */
  u8_t netif_idx;
};

/** Set once lwip_snat_start() succeeded. */
static u8_t napt_started;
/** Bit i: NAPT on netif index i (a SOURCE rule is installed). */
static u8_t napt_inside[256 / 8];
/** Addresses ip_napt_enable() was given that no netif held yet; 0 = free slot. */
static u32_t napt_pending[LWIP_SNAT_COMPAT_PENDING_ADDRS];
static struct compat_portmap napt_portmaps[IP_PORTMAP_MAX];

/** A timeout knob, raised to lwip-snat's RFC floor unless short ones are allowed. */
static u32_t
napt_timeout(u32_t wanted, u32_t floor)
{
  if (!LWIP_SNAT_COMPAT_ALLOW_SHORT_TIMEOUTS && (wanted < floor)) {
    return floor;
  }
  return wanted;
}

static void napt_tmr(void *arg);

/** Starts lwip-snat with the esp-lwip knobs, once. 1 when it runs. */
static int
napt_start(void)
{
  struct lwip_snat_config cfg;

  if (napt_started) {
    return 1;
  }
  lwip_snat_config_default(&cfg);
  /* the defaults are the RFC floors (UDP: above it), so they are the floors to keep to */
  cfg.tcp_established_ms = napt_timeout(IP_NAPT_TIMEOUT_MS_TCP, cfg.tcp_established_ms);
  cfg.tcp_transitory_ms = napt_timeout(IP_NAPT_TIMEOUT_MS_TCP_DISCON, cfg.tcp_transitory_ms);
  cfg.udp_ms = napt_timeout(IP_NAPT_TIMEOUT_MS_UDP, 120000);
  cfg.icmp_ms = napt_timeout(IP_NAPT_TIMEOUT_MS_ICMP, cfg.icmp_ms);
  cfg.allow_short_timeouts = LWIP_SNAT_COMPAT_ALLOW_SHORT_TIMEOUTS ? 1 : 0;
#if defined(LWIP_SNAT_FEATURE_EVICT)
  /* esp-lwip makes room for a new flow in a full table; lwip-snat's closest safe policy */
  cfg.full_policy = LWIP_SNAT_FULL_EVICT;
#endif
  /* (a build without `evict` keeps LWIP_SNAT_FULL_REJECT, the one policy it carries out:
   * it refuses the other; closed connections and expired sessions still make room) */
  if (lwip_snat_start(&cfg) != LWIP_SNAT_OK) {
    return 0;
  }
  napt_started = 1;
  sys_timeout(LWIP_SNAT_TMR_INTERVAL, napt_tmr, NULL);
  return 1;
}

static int
napt_is_inside(u8_t idx)
{
  return (napt_inside[idx / 8] >> (idx % 8)) & 1;
}

static int
napt_any_inside(void)
{
  size_t i;
  for (i = 0; i < LWIP_ARRAYSIZE(napt_inside); i++) {
    if (napt_inside[i] != 0) {
      return 1;
    }
  }
  for (i = 0; i < LWIP_ARRAYSIZE(napt_pending); i++) {
    if (napt_pending[i] != 0) {
      return 1;
    }
  }
  return 0;
}

/** Turns NAPT on or off for netif index @p idx. 1 on success. */
static int
napt_set_inside(u8_t idx, int on)
{
  struct lwip_snat_rule rule;
  lwip_snat_err_t err;

  if ((idx == NETIF_NO_INDEX) || (on && !napt_start())) {
    return 0;
  }
  if ((on ? 1 : 0) == napt_is_inside(idx)) {
    return 1;
  }
  rule.kind = LWIP_SNAT_RULE_SOURCE;
  rule.src_netif_idx = idx;
  rule.out_netif_idx = 0;
  if (on) {
    err = lwip_snat_rule_add(&rule);
    if ((err != LWIP_SNAT_OK) && (err != LWIP_SNAT_ERR_RULE_EXISTS)) {
      return 0;
    }
    napt_inside[idx / 8] = (u8_t)(napt_inside[idx / 8] | (1u << (idx % 8)));
  } else {
    lwip_snat_rule_remove(&rule);
    napt_inside[idx / 8] = (u8_t)(napt_inside[idx / 8] & ~(1u << (idx % 8)));
  }
  return 1;
}

/** The netif that is up and holds @p addr (network order), or NULL. */
static struct netif *
napt_netif_with(u32_t addr)
{
  struct netif *netif;
  if (addr == IPADDR_ANY) {
    return NULL;
  }
  NETIF_FOREACH(netif) {
    if (netif_is_up(netif) && (ip4_addr_get_u32(netif_ip4_addr(netif)) == addr)) {
      return netif;
    }
  }
  return NULL;
}

/** Where a port map with external address @p maddr belongs: its netif, else the default one. */
static u8_t
napt_portmap_netif(u32_t maddr)
{
  struct netif *netif = napt_netif_with(maddr);
  if (netif == NULL) {
    netif = netif_default;
  }
  return (netif != NULL) ? netif_get_index(netif) : NETIF_NO_INDEX;
}

#if NAPT_PORTMAPS
/** The lwip-snat forward of @p m on netif index @p idx. */
static void
napt_forward(struct lwip_snat_portmap *f, const struct compat_portmap *m, u8_t idx)
{
  f->inside_addr = lwip_ntohl(m->daddr);
  f->ext_port = m->mport;
  f->inside_port = m->dport;
  f->proto = m->proto;
  f->out_netif_idx = idx;
}
#endif

static void
napt_uninstall(struct compat_portmap *m)
{
  if (m->netif_idx != NETIF_NO_INDEX) {
#if NAPT_PORTMAPS
    struct lwip_snat_portmap f;
    napt_forward(&f, m, m->netif_idx);
    lwip_snat_portmap_remove(&f);
#endif
    m->netif_idx = NETIF_NO_INDEX;
  }
}

/**
 * Installs @p m on the netif its external address resolves to now (moving it when that
 * changed). 1 when it is installed or has nowhere to go yet, 0 when lwip-snat refused it.
 */
static int
napt_install(struct compat_portmap *m)
{
  u8_t want = napt_portmap_netif(m->maddr);

  if (want == m->netif_idx) {
    return 1;
  }
  napt_uninstall(m);
  if (want == NETIF_NO_INDEX) {
    return 1;
  }
#if NAPT_PORTMAPS
  {
    struct lwip_snat_portmap f;
    napt_forward(&f, m, want);
    if (lwip_snat_portmap_add(&f) != LWIP_SNAT_OK) {
      return 0;
    }
  }
  m->netif_idx = want;
  return 1;
#else
  return 0;
#endif
}

/** Applies remembered addresses a netif now holds and moves port maps to their netif. */
static void
napt_sync(void)
{
  size_t i;
  for (i = 0; i < LWIP_ARRAYSIZE(napt_pending); i++) {
    struct netif *netif = napt_netif_with(napt_pending[i]);
    if ((netif != NULL) && napt_set_inside(netif_get_index(netif), 1)) {
      napt_pending[i] = 0;
    }
  }
  for (i = 0; i < LWIP_ARRAYSIZE(napt_portmaps); i++) {
    if (napt_portmaps[i].valid) {
      napt_install(&napt_portmaps[i]);
    }
  }
}

static void
napt_tmr(void *arg)
{
  LWIP_UNUSED_ARG(arg);
  napt_sync();
  sys_timeout(LWIP_SNAT_TMR_INTERVAL, napt_tmr, NULL);
}

/**
 * NAPT was on somewhere (@p was_on) and is off everywhere now: drop sessions and port maps, as
 * esp-lwip frees its tables then.
 */
static void
napt_reset_if_unused(int was_on)
{
  size_t i;
  if (!was_on || !napt_started || napt_any_inside()) {
    return;
  }
  for (i = 0; i < LWIP_ARRAYSIZE(napt_portmaps); i++) {
    napt_uninstall(&napt_portmaps[i]);
    napt_portmaps[i].valid = 0;
  }
  lwip_snat_flush();
}

/** Remembers (@p on) or forgets an address no netif holds yet. */
static void
napt_set_pending(u32_t addr, int on)
{
  size_t i, free_slot = LWIP_ARRAYSIZE(napt_pending);
  for (i = 0; i < LWIP_ARRAYSIZE(napt_pending); i++) {
    if (napt_pending[i] == addr) {
      if (!on) {
        napt_pending[i] = 0;
      }
      return;
    }
    if ((napt_pending[i] == 0) && (free_slot == LWIP_ARRAYSIZE(napt_pending))) {
      free_slot = i;
    }
  }
  if (on && (addr != IPADDR_ANY) && (free_slot < LWIP_ARRAYSIZE(napt_pending)) && napt_start()) {
    napt_pending[free_slot] = addr;
  }
}

void
ip_napt_enable(u32_t addr, int enable)
{
  struct netif *netif = napt_netif_with(addr);
  int was_on = napt_any_inside();
  if (netif != NULL) {
    napt_set_inside(netif_get_index(netif), enable);
  }
  napt_set_pending(addr, enable && (netif == NULL));
  napt_reset_if_unused(was_on);
}

void
ip_napt_enable_no(u8_t number, int enable)
{
  struct netif *netif;
  int was_on = napt_any_inside();
  NETIF_FOREACH(netif) {
    if (netif->num == number) {
      napt_set_inside(netif_get_index(netif), enable);
      break;
    }
  }
  napt_reset_if_unused(was_on);
}

int
ip_napt_enable_netif(struct netif *netif, int enable)
{
  int done, was_on = napt_any_inside();
  if ((netif == NULL) || !netif_is_up(netif)) {
    return 0;
  }
  done = napt_set_inside(netif_get_index(netif), enable);
  napt_reset_if_unused(was_on);
  return done;
}

static struct compat_portmap *
napt_portmap_find(u8_t proto, u16_t mport)
{
  size_t i;
  for (i = 0; i < LWIP_ARRAYSIZE(napt_portmaps); i++) {
    struct compat_portmap *m = &napt_portmaps[i];
    if (m->valid && (m->proto == proto) && (m->mport == mport)) {
      return m;
    }
  }
  return NULL;
}

u8_t
ip_portmap_add(u8_t proto, u32_t maddr, u16_t mport, u32_t daddr, u16_t dport)
{
  struct compat_portmap *m = napt_portmap_find(proto, mport);
  struct compat_portmap old;
  size_t i;

  if (!NAPT_PORTMAPS || ((proto != IP_PROTO_TCP) && (proto != IP_PROTO_UDP)) || !napt_start()) {
    return 0;
  }
  for (i = 0; (m == NULL) && (i < LWIP_ARRAYSIZE(napt_portmaps)); i++) {
    if (!napt_portmaps[i].valid) {
      m = &napt_portmaps[i];
    }
  }
  if (m == NULL) {
    return 0;
  }
  /* replacing: the old forward goes first (it holds the port), and comes back on failure */
  old = *m;
  napt_uninstall(m);
  m->maddr = maddr;
  m->daddr = daddr;
  m->mport = mport;
  m->dport = dport;
  m->proto = proto;
  m->valid = 1;
  if (napt_install(m)) {
    return 1;
  }
  *m = old;
  m->netif_idx = NETIF_NO_INDEX;
  if (m->valid) {
    napt_install(m);
  }
  return 0;
}

u8_t
ip_portmap_get(u8_t proto, u16_t mport, u32_t *maddr, u32_t *daddr, u16_t *dport)
{
  const struct compat_portmap *m = napt_portmap_find(proto, mport);
  if (m == NULL) {
    return 0;
  }
  if (maddr != NULL) {
    *maddr = m->maddr;
  }
  if (daddr != NULL) {
    *daddr = m->daddr;
  }
  if (dport != NULL) {
    *dport = m->dport;
  }
  return 1;
}

u8_t
ip_portmap_remove(u8_t proto, u16_t mport)
{
  struct compat_portmap *m = napt_portmap_find(proto, mport);
  if (m == NULL) {
    return 0;
  }
  napt_uninstall(m);
  m->valid = 0;
  return 1;
}

void
ip_napt_get_stats(struct stats_ip_napt *stats)
{
  struct lwip_snat_stats st;
  if (stats == NULL) {
    return;
  }
  memset(stats, 0, sizeof(*stats));
  if (!napt_started || (lwip_snat_stats(&st) != LWIP_SNAT_OK)) {
    return;
  }
  stats->nr_active_tcp = st.tcp.in_use;
  stats->nr_active_udp = st.udp.in_use;
  stats->nr_active_icmp = st.icmp.in_use;
  stats->nr_forced_evictions = st.evicted_transitory + st.evicted_idle;
}

#endif /* LWIP_IPV4 */
