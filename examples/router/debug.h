/*
 * Forced into the compilation of lwip-snat's shim (-include, CMakeLists.txt): LWIP_SNAT_DEBUG on,
 * its LWIP_DEBUGF lines going to router_debug_log(), which prints them when the router runs
 * with --debug. A firmware does the same in its lwipopts.h and arch/cc.h.
 */
#ifndef ROUTER_DEBUG_H
#define ROUTER_DEBUG_H

#define LWIP_DEBUG 1
#define LWIP_SNAT_DEBUG LWIP_DBG_ON

/** printf() to stdout while --debug is on (router.c) */
void router_debug_log(const char *fmt, ...);
#define LWIP_PLATFORM_DIAG(x) do { router_debug_log x; } while (0)

#endif /* ROUTER_DEBUG_H */
