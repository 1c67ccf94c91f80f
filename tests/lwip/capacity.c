/* lwip_snat_start() refuses a caller whose lwip_snat.h states other capacities than the
 * library's (a header left from another build): LWIP_SNAT_ERR_CAPACITY, nothing changed.
 * The stale header is simulated by redefining LWIP_SNAT_MAX_TCP below, the way a header
 * generated with another LWIP_SNAT_MAX_TCP states it, before the calls compiled after it.
 * Prints "<n> passed, <m> failed"; exit status 1 if any failed. */
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "lwip_snat_hook.h"
#include "lwip_snat_tcpip.h"

#include <stdio.h>

#include "check.h"

static void
tcpip_ready(void *arg)
{
  sys_sem_signal((sys_sem_t *)arg);
}

/* Compiled with the header generated with the library. */
static lwip_snat_err_t
start_with_matching_header(void)
{
  return lwip_snat_start(NULL);
}

static lwip_snat_err_t
check_one_different(int which)
{
  uint32_t caps[8] = { LWIP_SNAT_MAX_TCP, LWIP_SNAT_MAX_UDP, LWIP_SNAT_MAX_ICMP, LWIP_SNAT_MAX_RULES,
    LWIP_SNAT_MAX_HOSTS, LWIP_SNAT_REASS_SLOTS, LWIP_SNAT_REASS_BYTES, LWIP_SNAT_MAX_PORTMAPS };
  if (which >= 0) {
    caps[which] += 64;
  }
  return lwip_snat_check_capacities(caps[0], caps[1], caps[2], caps[3], caps[4], caps[5], caps[6], caps[7]);
}

enum { LIBRARY_MAX_TCP = LWIP_SNAT_MAX_TCP };
/* From here on: a unit compiled with a header generated for another LWIP_SNAT_MAX_TCP. */
#undef LWIP_SNAT_MAX_TCP
#define LWIP_SNAT_MAX_TCP (LIBRARY_MAX_TCP / 2)

int
main(void)
{
  struct lwip_snat_rule rule = { LWIP_SNAT_RULE_OUTBOUND, 0, 5 };
  sys_sem_t ready;
  int which;

  if (sys_sem_new(&ready, 0) != ERR_OK) {
    return 2;
  }
  tcpip_init(tcpip_ready, &ready);
  sys_sem_wait(&ready);
  LOCK_TCPIP_CORE();
  CHECK(lwip_snat_start(NULL) == LWIP_SNAT_ERR_CAPACITY);
  CHECK(lwip_snat_rule_add(&rule) == LWIP_SNAT_ERR_NOT_INIT);
  CHECK(start_with_matching_header() == LWIP_SNAT_OK);
  CHECK(lwip_snat_rule_add(&rule) == LWIP_SNAT_OK);
  /* refused without a reset: the rule is still installed */
  CHECK(lwip_snat_start(NULL) == LWIP_SNAT_ERR_CAPACITY);
  CHECK(lwip_snat_rule_add(&rule) == LWIP_SNAT_ERR_RULE_EXISTS);
  CHECK(check_one_different(-1) == LWIP_SNAT_OK);
  for (which = 0; which < 8; which++) {
    CHECK(check_one_different(which) == LWIP_SNAT_ERR_CAPACITY);
  }
  UNLOCK_TCPIP_CORE();
  /* the thread-safe entry point, from this application thread, refuses it too */
  CHECK(lwip_snat_tcpip_start(NULL) == LWIP_SNAT_ERR_CAPACITY);
  CHECK(lwip_snat_tcpip_rule_add(&rule) == LWIP_SNAT_ERR_RULE_EXISTS);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
