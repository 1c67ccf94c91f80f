/*
 * Two threads calling the C API at once (tests/lwip_adversarial/claims.rs): the guard of
 * src/ffi/ must let only one of them into the NAT, refusing the other with
 * LWIP_SNAT_ERR_BUSY. Prints "overlaps <n> busy <n> entered <n> blocked_call <code>" and exits
 * 0, or prints what went wrong and exits 1.
 *
 * 1. Deterministic: thread A sits in a foreach callback until thread B has called
 *    lwip_snat_stats(); B must get LWIP_SNAT_ERR_BUSY.
 * 2. A race: both threads call lwip_snat_foreach() until each got in n times; every callback
 *    counts itself in and out of a shared counter, so two threads inside the NAT at once show
 *    up as an overlap.
 */
#include "lwip_snat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int inside;
static atomic_long overlaps, busy, entered;
static atomic_int a_inside, b_done;
static int blocked_call;

static void
hold(const struct lwip_snat_session *s, void *arg)
{
  (void)s;
  (void)arg;
  atomic_store(&a_inside, 1);
  while (!atomic_load(&b_done)) {
  }
}

static void *
call_while_held(void *arg)
{
  struct lwip_snat_stats st;
  (void)arg;
  while (!atomic_load(&a_inside)) {
  }
  blocked_call = lwip_snat_stats(&st);
  atomic_store(&b_done, 1);
  return NULL;
}

static void
count_in_and_out(const struct lwip_snat_session *s, void *arg)
{
  volatile int i;
  (void)s;
  (void)arg;
  if (atomic_fetch_add(&inside, 1) != 0) {
    atomic_fetch_add(&overlaps, 1);
  }
  for (i = 0; i < 20; i++) {
  }
  atomic_fetch_sub(&inside, 1);
}

static void *
hammer(void *arg)
{
  long i = 0, n = (long)arg;
  /* retried until it got in n times: whenever one thread leaves, the other is at the door */
  while (i < n) {
    lwip_snat_err_t err = lwip_snat_foreach(count_in_and_out, NULL, 0);
    if (err == LWIP_SNAT_ERR_BUSY) {
      atomic_fetch_add(&busy, 1);
    } else if (err == LWIP_SNAT_OK) {
      atomic_fetch_add(&entered, 1);
      i++;
    } else {
      printf("foreach: %s\n", lwip_snat_strerror(err));
      exit(1);
    }
  }
  return NULL;
}

/* UDP 192.168.1.10:sport -> 203.0.113.5:53 forwarded LAN (1) -> WAN (2): one session. */
static void
open_session(uint16_t sport)
{
  uint8_t p[28] = { 0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 192, 168, 1, 10, 203, 0, 113, 5,
                    0x13, 0x88, 0, 53, 0, 8, 0, 0 };
  struct lwip_snat_ctx ctx = { 0x0A000001u, 1500, 1, LWIP_SNAT_ROUTE_FORWARD, 2 };
  struct lwip_snat_verdict v;
  uint32_t sum = 0;
  int i;
  p[20] = (uint8_t)(sport >> 8);
  p[21] = (uint8_t)sport;
  for (i = 0; i < 20; i += 2) {
    sum += (uint32_t)((p[i] << 8) | p[i + 1]);
  }
  while (sum >> 16) {
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  p[10] = (uint8_t)(~sum >> 8);
  p[11] = (uint8_t)~sum;
  if (lwip_snat_process(p, sizeof(p), &ctx, 0, &v) != LWIP_SNAT_OK || v.action != LWIP_SNAT_TRANSLATED) {
    printf("setup: the session was not created\n");
    exit(1);
  }
}

int
main(int argc, char **argv)
{
  struct lwip_snat_config cfg;
  struct lwip_snat_rule rule = { LWIP_SNAT_RULE_OUTBOUND, 0, 2 };
  long rounds = argc > 1 ? atol(argv[1]) : 10000;
  pthread_t a, b;
  uint16_t port;

  lwip_snat_config_default(&cfg);
  memset(cfg.seed, 7, sizeof(cfg.seed));
  cfg.host_quota = 0; /* 64 sessions of one host: more than its default share of the UDP table */
  if (lwip_snat_init(&cfg) != LWIP_SNAT_OK || lwip_snat_rule_add(&rule) != LWIP_SNAT_OK) {
    printf("setup failed\n");
    return 1;
  }
  /* sessions spread over the table, so both threads' callbacks run all through a foreach */
  for (port = 5000; port < 5064; port++) {
    open_session(port);
  }

  pthread_create(&b, NULL, call_while_held, NULL);
  if (lwip_snat_foreach(hold, NULL, 0) != LWIP_SNAT_OK) {
    printf("foreach in thread A failed\n");
    return 1;
  }
  pthread_join(b, NULL);

  pthread_create(&a, NULL, hammer, (void *)rounds);
  pthread_create(&b, NULL, hammer, (void *)rounds);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("overlaps %ld busy %ld entered %ld blocked_call %d\n", (long)overlaps, (long)busy, (long)entered,
         blocked_call);
  return 0;
}
