/**
 * @file
 * The original lwIP SNAT add-on's API (include/lwip_snat_compat_nat.h) as thin C over
 * lwip-snat's C API: each struct nat_rule becomes an lwip_snat_rule of the matching kind.
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */

#include "lwip/opt.h"

#if LWIP_IPV4

#include "lwip_snat_compat_nat.h"
#include "lwip_snat_hook.h"

#include "lwip/netif.h"
#include "lwip/sys.h"

/** The rules added, newest first (the callers' memory). */
static struct nat_rule *nat_rules;
/** Set once lwip_snat_start() succeeded: rules are installed in lwip-snat from then on. */
static u8_t nat_started;

/** Adds (@p add) or removes the lwip-snat rule that does what @p rule says. */
static lwip_snat_err_t
nat_rule_apply(const struct nat_rule *rule, int add)
{
  struct lwip_snat_rule r;

  if ((rule->inp != NULL) && (rule->outp != NULL)) {
    r.kind = LWIP_SNAT_RULE_PAIR;
  } else if (rule->inp != NULL) {
    r.kind = LWIP_SNAT_RULE_SOURCE;
  } else {
    r.kind = LWIP_SNAT_RULE_OUTBOUND;
  }
  r.src_netif_idx = (rule->inp != NULL) ? netif_get_index(rule->inp) : NETIF_NO_INDEX;
  r.out_netif_idx = (rule->outp != NULL) ? netif_get_index(rule->outp) : NETIF_NO_INDEX;
  return add ? lwip_snat_rule_add(&r) : lwip_snat_rule_remove(&r);
}

/** lwip-snat's result as the add-on's callers expect it. */
static err_t
nat_err(lwip_snat_err_t err)
{
  switch (err) {
    case LWIP_SNAT_OK:
      return ERR_OK;
    case LWIP_SNAT_ERR_RULES_FULL:
      return ERR_MEM;
    case LWIP_SNAT_ERR_RULE_EXISTS:
      return ERR_ALREADY;
    case LWIP_SNAT_ERR_BUSY:
      return ERR_INPROGRESS;
    default:
      return ERR_ARG;
  }
}

void
nat_init(void)
{
  struct nat_rule *rule;

  if (nat_started || (lwip_snat_start(NULL) != LWIP_SNAT_OK)) {
    return;
  }
  nat_started = 1;
  for (rule = nat_rules; rule != NULL; rule = rule->next) {
    nat_rule_apply(rule, 1);
  }
}

void
nat_timer_tick(void)
{
  lwip_snat_tick(sys_now());
}

err_t
nat_rule_add(struct nat_rule *rule)
{
  struct nat_rule *r;

  if ((rule == NULL) || ((rule->inp == NULL) && (rule->outp == NULL))) {
    return ERR_ARG;
  }
  for (r = nat_rules; r != NULL; r = r->next) {
    if ((r == rule) || ((r->inp == rule->inp) && (r->outp == rule->outp))) {
      return ERR_ALREADY;
    }
  }
  if (nat_started) {
    err_t err = nat_err(nat_rule_apply(rule, 1));
    if (err != ERR_OK) {
      return err;
    }
  }
  rule->next = nat_rules;
  nat_rules = rule;
  return ERR_OK;
}

err_t
nat_rule_remove(struct nat_rule *rule)
{
  struct nat_rule **link;

  for (link = &nat_rules; *link != NULL; link = &(*link)->next) {
    if (*link == rule) {
      *link = rule->next;
      rule->next = NULL;
      if (nat_started) {
        nat_rule_apply(rule, 0);
      }
      return ERR_OK;
    }
  }
  return ERR_ARG;
}

/** @p want is NULL (any netif) or @p netif. */
static int
nat_netif_fits(const struct netif *want, const struct netif *netif)
{
  return (want == NULL) || (want == netif);
}

int
nat_rule_check(struct netif *inp, struct netif *forwardp)
{
  const struct nat_rule *rule;
  int verdict = -1;

  for (rule = nat_rules; rule != NULL; rule = rule->next) {
    /* from a rule's outside to its inside: never translated, so refused */
    if (nat_netif_fits(rule->inp, forwardp) && nat_netif_fits(rule->outp, inp)) {
      return 1;
    }
    if (nat_netif_fits(rule->inp, inp) && nat_netif_fits(rule->outp, forwardp)) {
      verdict = 0;
    }
  }
  return verdict;
}

int
ip4_input_nat(struct pbuf *p, struct netif *inp)
{
  return lwip_snat_ip4_input_hook(p, inp);
}

#endif /* LWIP_IPV4 */
