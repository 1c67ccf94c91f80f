/* Two in-memory IP netifs for the firmware test: packets go in through lwIP's real input path
 * (netif->input = ip4_input, which calls LWIP_HOOK_IP4_INPUT) and whatever lwIP sends out of
 * either netif is captured for the test to check. */
#ifndef FIRMWARE_NETIFS_H
#define FIRMWARE_NETIFS_H

#include "lwip/netif.h"
#include "packet.h"

/* The router: "lan" 192.168.1.1/24 (inside), "wan" 203.0.113.1/24 (outside, default route). */
#define LAN_ADDR IPV4(192, 168, 1, 1)
#define WAN_ADDR IPV4(203, 0, 113, 1)

extern struct netif lan, wan;

/** A packet lwIP sent, and the netif it left by. */
struct sent {
  struct netif *netif;
  struct pkt pkt;
};

/** Adds both netifs (MTU 1500), brings them up and makes wan the default route. */
void netifs_init(void);
/** Hands `p` to lwIP as received on `inp` (a PBUF_POOL chain, as a driver would). */
void inject(struct netif *inp, const struct pkt *p);
/** Number of packets sent since the last take. */
unsigned sent_count(void);
/** The i-th packet sent since the last take. */
const struct sent *sent_at(unsigned i);
/** Forgets the captured packets. */
void sent_clear(void);

#endif
