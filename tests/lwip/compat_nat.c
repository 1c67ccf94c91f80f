/*
 * The original lwIP SNAT add-on's API through real lwIP: tests/lwip/router.c's router (lan
 * 192.168.1.1/24, wan 10.0.0.1/24) with the compat layer (c-shim/compat/nat.c) on top and
 * ip4_input_nat() as its input hook, as the add-on's users set LWIP_HOOK_IP4_INPUT. Driven by
 * tests/lwip_compat.rs. The extra commands:
 *
 *   gateway                           the setup of a gateway firmware (below)
 *   nat_init                          nat_init()
 *   nat_tick                          nat_timer_tick()
 *   nat_add <lan|wan|-> <lan|wan|->   nat_rule_add() of a new rule (inp, outp): prints
 *                                     "rule <slot> <err_t>"
 *   nat_add_null                      nat_rule_add(NULL): prints "ret <err_t>"
 *   nat_remove <slot>                 nat_rule_remove() of that rule: prints "ret <err_t>"
 *   nat_check <lan|wan|-> <lan|wan|-> nat_rule_check(): prints "check <n>"
 */
#include "lwip/opt.h"
#include "lwip/netif.h"

#include "lwip_snat_compat_nat.h"

/* The add-on's users declare the hook in lwipopts.h, next to
 * #define LWIP_HOOK_IP4_INPUT ip4_input_nat; it must agree with the header's. */
extern int ip4_input_nat(struct pbuf *p, struct netif *inp);

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int router_extra_command(const char *cmd, const char *a, const char *b, const char *c, const char *d, const char *e);

/* What a gateway firmware does at boot: masquerade everything that leaves by the uplink. The
 * rule is the firmware's own memory, as the add-on wants. */
static struct nat_rule uplink_rule;

static void
gateway_start(struct netif *uplink)
{
  nat_init();
  uplink_rule.outp = uplink;
  nat_rule_add(&uplink_rule);
}

/* Rules made by nat_add, each the program's memory like uplink_rule. */
static struct nat_rule rules[16];
static size_t rules_used;

static struct netif *
named(const char *name)
{
  if ((name != NULL) && (strcmp(name, "lan") == 0)) {
    return netif_get_by_index(1);
  }
  if ((name != NULL) && (strcmp(name, "wan") == 0)) {
    return netif_get_by_index(2);
  }
  return NULL;
}

int
router_extra_command(const char *cmd, const char *a, const char *b, const char *c, const char *d, const char *e)
{
  LWIP_UNUSED_ARG(c);
  LWIP_UNUSED_ARG(d);
  LWIP_UNUSED_ARG(e);
  if (strcmp(cmd, "gateway") == 0) {
    gateway_start(named("wan"));
    return 0;
  }
  if (strcmp(cmd, "nat_init") == 0) {
    nat_init();
    return 0;
  }
  if (strcmp(cmd, "nat_tick") == 0) {
    nat_timer_tick();
    return 0;
  }
  if (strcmp(cmd, "nat_add") == 0 && b != NULL && rules_used < LWIP_ARRAYSIZE(rules)) {
    struct nat_rule *r = &rules[rules_used];
    r->inp = named(a);
    r->outp = named(b);
    printf("rule %u %d\n", (unsigned)rules_used, nat_rule_add(r));
    rules_used++;
    return 0;
  }
  if (strcmp(cmd, "nat_add_null") == 0) {
    printf("ret %d\n", nat_rule_add(NULL));
    return 0;
  }
  if (strcmp(cmd, "nat_remove") == 0 && a != NULL && (size_t)atoi(a) < LWIP_ARRAYSIZE(rules)) {
    printf("ret %d\n", nat_rule_remove(&rules[atoi(a)]));
    return 0;
  }
  if (strcmp(cmd, "nat_check") == 0 && b != NULL) {
    printf("check %d\n", nat_rule_check(named(a), named(b)));
    return 0;
  }
  return -100;
}
