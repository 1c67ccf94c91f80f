/* Chained PBUF_POOL pbufs through the hook (chain.c). */
#ifndef FIRMWARE_CHAIN_H
#define FIRMWARE_CHAIN_H

/** main.c's check(): counts a check and prints it. */
typedef void chain_check_fn(int ok, const char *what);

/** Runs the chained-pbuf flows, reporting each check through `check`. Call it after every
 * mapping from the other flows has expired (it makes its own). */
void chain_flows(chain_check_fn *check);

#endif
