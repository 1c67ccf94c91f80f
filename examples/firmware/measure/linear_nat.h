/* A linear-list NAT to compare with: the session lookup of the original lwIP NAT add-on, as
 * benches/support/addon.rs models it (that model, not the add-on's code, is what this follows),
 * for TCP and UDP established flows, with the minimum of parsing and rewriting around it. */
#ifndef FIRMWARE_LINEAR_NAT_H
#define FIRMWARE_LINEAR_NAT_H

#include <stdint.h>

#include "lwip_snat.h"

/** Sessions per protocol list. */
#define LINEAR_NAT_MAX 1024u

/** Forgets every session. */
void linear_nat_clear(void);
/** Adds a session (newest first, as the add-on allocates); host byte order; 0 when full. */
int linear_nat_add(uint8_t proto, uint32_t inside, uint16_t in_port, uint16_t ext_port, uint32_t remote,
                   uint16_t remote_port, uint8_t ext_netif, uint8_t int_netif, uint32_t ext_addr);
/** Translates an established flow's packet in place, routed as `ctx` says: 1 if translated. */
int linear_nat_process(uint8_t *pkt, uint16_t len, const struct lwip_snat_ctx *ctx);

#endif
