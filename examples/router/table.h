/**
 * @file
 * The router's NAT table dump, `conntrack -L` style, and its counters.
 */
#ifndef LWIP_SNAT_ROUTER_TABLE_H
#define LWIP_SNAT_ROUTER_TABLE_H

#include <stdio.h>

/**
 * Prints every live session (proto, inside ip:port, outside ip:port, remote, state, idle,
 * timeout) and the NAT's counters to @p out, framed by "NAT table #n" and "end of NAT table
 * #n" lines so that a script can wait for a whole dump. Call it holding the core lock.
 */
void table_dump(FILE *out, unsigned serial);

#endif /* LWIP_SNAT_ROUTER_TABLE_H */
