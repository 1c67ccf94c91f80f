/**
 * @file
 * lwip-snat: the API of the original lwIP SNAT add-on (nat/nat.h), on top of lwip-snat.
 *
 * A firmware written for the original add-on switches by including this header instead of
 * "nat/nat.h" and linking c-shim/compat/nat.c, the shim (c-shim/lwip_snat_hook.c) and the
 * library instead of the add-on's sources. Its lwipopts.h lines stay as they are:
 *
 *   extern int ip4_input_nat(struct pbuf *p, struct netif *inp);
 *   #define LWIP_HOOK_IP4_INPUT ip4_input_nat
 *
 * Rules are the caller's struct nat_rule, linked into a list as the add-on does (the memory
 * stays the caller's and must live while the rule is installed). Call everything in lwIP's
 * core context.
 *
 * Where lwip-snat behaves differently from the add-on, lwip-snat's RFC behaviour applies
 * (docs/migrating.md has the table): endpoint-independent mapping with address-and-port
 * dependent filtering instead of symmetric mapping (RFC 4787, RFC 5382); ICMP echo
 * identifiers translated (RFC 5508); idle timeouts of 124 min for established TCP, 4 min
 * transitory TCP, 5 min UDP and 1 min ICMP instead of about 30 min for all; a full table
 * refuses new flows instead of reusing the oldest entry. The add-on's natopts.h settings are
 * not used: sizes come from the library build (LWIP_SNAT_MAX_*), settings from
 * lwip_snat_set_config().
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */

#ifndef LWIP_SNAT_COMPAT_NAT_H
#define LWIP_SNAT_COMPAT_NAT_H

#include "lwip/opt.h"
#include "lwip/err.h"
#include "lwip/ip.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "lwip_snat.h"

#ifdef __cplusplus
extern "C" {
#endif

struct netif;
struct pbuf;

/**
 * A NAT rule: @c inp only translates what is forwarded from that netif, @c outp only what is
 * forwarded out of that netif, both what goes from @c inp out of @c outp. @c next is the
 * list link nat_rule_add() sets.
 */
struct nat_rule {
  struct netif *inp;
  struct netif *outp;
  struct nat_rule *next;
};

/** Starts lwip-snat (lwip_snat_start(NULL): its timer included) and installs the rules added so far. */
void nat_init(void);

/** Expires idle sessions now; the shim's timer does it every LWIP_SNAT_TMR_INTERVAL ms anyway. */
void nat_timer_tick(void);

/**
 * Adds @p rule (caller's memory). ERR_ARG when it is NULL or names no netif, ERR_ALREADY for
 * a rule with the same netifs, ERR_MEM when the library's LWIP_SNAT_MAX_RULES are in use.
 */
err_t nat_rule_add(struct nat_rule *rule);

/** Removes @p rule (the same pointer nat_rule_add() got); ERR_ARG when it is not added. */
err_t nat_rule_remove(struct nat_rule *rule);

/**
 * What the rules say about a packet from @p inp forwarded to @p forwardp: 0 a rule translates
 * it, 1 it comes from the outside straight to the inside of a rule (lwip-snat drops it),
 * -1 no rule concerns it.
 */
int nat_rule_check(struct netif *inp, struct netif *forwardp);

/** LWIP_HOOK_IP4_INPUT: lwip_snat_ip4_input_hook(). 1 when it consumed @p p. */
int ip4_input_nat(struct pbuf *p, struct netif *inp);

#ifdef __cplusplus
}
#endif

#endif /* LWIP_SNAT_COMPAT_NAT_H */
