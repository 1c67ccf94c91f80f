/* lwIP 2.2 host harness: PERF_STOP(x) counts each function lwIP reports (port.c), so that the
 * tests can tell whether lwIP's own ip4_forward() ran. Nothing is timed. */
#ifndef LWIP22_ARCH_PERF_H
#define LWIP22_ARCH_PERF_H

void lwip22_perf_stop(const char *what);

#define PERF_START
#define PERF_STOP(x) lwip22_perf_stop(x)

#endif /* LWIP22_ARCH_PERF_H */
