/**
 * @file
 * lwip-snat's C API for application threads of a NO_SYS=0 lwIP (like lwIP's netifapi).
 *
 * The functions of lwip_snat.h and lwip_snat_start() must run in lwIP's core context (the tcpip
 * thread or a thread holding the core lock). From any other thread call these instead: each
 * runs its lwip_snat_* namesake through tcpip_api_call(), under the core lock with
 * LWIP_TCPIP_CORE_LOCKING, else in the tcpip thread while the caller waits, and returns its
 * result. Never call them from the tcpip thread itself or with the core lock held (deadlock).
 * With NO_SYS=1 there is one context; call lwip_snat.h directly.
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */
#ifndef LWIP_SNAT_TCPIP_H
#define LWIP_SNAT_TCPIP_H

#include "lwip/opt.h"

#include "lwip_snat_hook.h"

#if !NO_SYS

#ifdef __cplusplus
extern "C" {
#endif

/** lwip_snat_start() from an application thread */
lwip_snat_err_t (lwip_snat_tcpip_start)(const struct lwip_snat_config *cfg);
/** Refuses a caller whose lwip_snat.h states other capacities than the library's, as lwip_snat_start() does */
#define lwip_snat_tcpip_start(cfg) \
  ((LWIP_SNAT_CHECK_CAPACITIES() == LWIP_SNAT_OK) ? (lwip_snat_tcpip_start)(cfg) : LWIP_SNAT_ERR_CAPACITY)
/** lwip_snat_set_config() from an application thread */
lwip_snat_err_t lwip_snat_tcpip_set_config(const struct lwip_snat_config *cfg);
/** lwip_snat_get_config() from an application thread */
lwip_snat_err_t lwip_snat_tcpip_get_config(struct lwip_snat_config *out);
/** lwip_snat_rule_add() from an application thread */
lwip_snat_err_t lwip_snat_tcpip_rule_add(const struct lwip_snat_rule *rule);
/** lwip_snat_rule_remove() from an application thread */
lwip_snat_err_t lwip_snat_tcpip_rule_remove(const struct lwip_snat_rule *rule);
#if defined(LWIP_SNAT_FEATURE_PORTMAP)
/** lwip_snat_portmap_add() from an application thread */
lwip_snat_err_t lwip_snat_tcpip_portmap_add(const struct lwip_snat_portmap *map);
/** lwip_snat_portmap_remove() from an application thread */
lwip_snat_err_t lwip_snat_tcpip_portmap_remove(const struct lwip_snat_portmap *map);
#endif
/** lwip_snat_stats() from an application thread */
lwip_snat_err_t lwip_snat_tcpip_stats(struct lwip_snat_stats *out);
/** lwip_snat_flush() from an application thread */
lwip_snat_err_t lwip_snat_tcpip_flush(void);
/** lwip_snat_remove_host() from an application thread */
lwip_snat_err_t lwip_snat_tcpip_remove_host(uint32_t addr);
#if defined(LWIP_SNAT_FEATURE_DUMP)
/** lwip_snat_foreach() from an application thread; cb runs in lwIP's core context */
lwip_snat_err_t lwip_snat_tcpip_foreach(lwip_snat_foreach_fn cb, void *arg, uint32_t now_ms);
#endif

#ifdef __cplusplus
}
#endif

#endif /* !NO_SYS */

#endif /* LWIP_SNAT_TCPIP_H */
