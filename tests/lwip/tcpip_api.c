/* lwip_snat_tcpip.h on Debian's lwIP (NO_SYS=0, core locking): every thread-safe entry point
 * called from an application thread while the tcpip thread runs, each returning what its
 * lwip_snat.h namesake returns in lwIP's core context, with the core lock held during the call.
 * Prints "<n> passed, <m> failed"; exit status 1 if any failed. */
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "lwip_snat_tcpip.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static void
tcpip_ready(void *arg)
{
  sys_sem_signal((sys_sem_t *)arg);
}

struct walk {
  int sessions;
};

#if defined(LWIP_SNAT_FEATURE_DUMP)
static void
count(const struct lwip_snat_session *session, void *arg)
{
  struct walk *w = (struct walk *)arg;
  (void)session;
  w->sessions++;
}
#endif

/* The application: a thread that is not the tcpip thread and holds no lock. */
static void
application_thread(void *arg)
{
  struct lwip_snat_rule rule = { LWIP_SNAT_RULE_OUTBOUND, 0, 5 };
  struct lwip_snat_portmap map;
  struct lwip_snat_config cfg;
  struct lwip_snat_stats st;
  struct walk w;

  memset(&w, 0, sizeof(w));
  memset(&map, 0, sizeof(map));
  CHECK(lwip_snat_tcpip_rule_add(&rule) == LWIP_SNAT_ERR_NOT_INIT);
  CHECK(lwip_snat_tcpip_start(NULL) == LWIP_SNAT_OK);
  CHECK(lwip_snat_tcpip_rule_add(NULL) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_tcpip_rule_add(&rule) == LWIP_SNAT_OK);
  CHECK(lwip_snat_tcpip_rule_add(&rule) == LWIP_SNAT_ERR_RULE_EXISTS);
  CHECK(lwip_snat_tcpip_rule_remove(&rule) == LWIP_SNAT_OK);
  CHECK(lwip_snat_tcpip_rule_remove(&rule) == LWIP_SNAT_ERR_RULE_NOT_FOUND);
#if defined(LWIP_SNAT_FEATURE_PORTMAP)
  CHECK(lwip_snat_tcpip_portmap_add(NULL) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_tcpip_portmap_remove(NULL) == LWIP_SNAT_ERR_NULL);
#endif
  memset(&cfg, 0, sizeof(cfg));
  CHECK(lwip_snat_tcpip_get_config(&cfg) == LWIP_SNAT_OK);
  CHECK(cfg.port_range_start != 0 && cfg.port_range_start <= cfg.port_range_end);
  CHECK(lwip_snat_tcpip_set_config(&cfg) == LWIP_SNAT_OK);
  CHECK(lwip_snat_tcpip_set_config(NULL) == LWIP_SNAT_ERR_NULL);
  memset(&st, 0xAB, sizeof(st));
  CHECK(lwip_snat_tcpip_stats(&st) == LWIP_SNAT_OK);
  CHECK(st.translated_out == 0 && st.translated_in == 0);
#if defined(LWIP_SNAT_FEATURE_DUMP)
  CHECK(lwip_snat_tcpip_foreach(count, &w, 0) == LWIP_SNAT_OK);
  CHECK(w.sessions == 0);
#endif
  CHECK(lwip_snat_tcpip_remove_host(0xC0A80102u) == LWIP_SNAT_OK);
  CHECK(lwip_snat_tcpip_flush() == LWIP_SNAT_OK);
  sys_sem_signal((sys_sem_t *)arg);
}

int
main(void)
{
  sys_sem_t ready, done;
  if ((sys_sem_new(&ready, 0) != ERR_OK) || (sys_sem_new(&done, 0) != ERR_OK)) {
    return 2;
  }
  tcpip_init(tcpip_ready, &ready);
  sys_sem_wait(&ready);
  /* a thread of the application's own, as lwIP's sys_thread_new() makes them */
  sys_thread_new("app", application_thread, &done, 0, 0);
  sys_sem_wait(&done);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
