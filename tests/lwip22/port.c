/* What the lwIP 2.2 host build needs besides the harness (tests/lwip/router.c, which provides
 * sys_now()): diagnostics and the checksum switch of lwipopts.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/cc.h"
#include "lwipopts.h"


/* Times LWIP_HOOK_IP4_CANFORWARD was called (by lwIP's ip4_forward() or by the shim). */
unsigned long lwip22_canforward_calls;

/* See lwipopts.h: LWIP_HOOK_IP4_CANFORWARD; addr in host byte order. */
int
lwip22_canforward(struct pbuf *p, unsigned long addr)
{
  (void)p;
  lwip22_canforward_calls++;
  if (((addr >> 28) == 0xF) && (addr != 0xFFFFFFFFUL)) {
    return 1;
  }
  return -1;
}

/* Times lwIP's own ip4_forward() forwarded a packet (its PERF_STOP, arch/perf.h). */
unsigned long lwip22_ip4_forward_reached;

void
lwip22_perf_stop(const char *what)
{
  if (strcmp(what, "ip4_forward") == 0) {
    lwip22_ip4_forward_reached++;
  }
}

void
lwip22_diag(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}

void
lwip22_assert(const char *msg, const char *file, int line)
{
  fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", msg, file, line);
  abort();
}
