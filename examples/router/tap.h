/**
 * @file
 * A Linux tap device as an lwIP Ethernet netif (the router example's own driver).
 *
 * Why not the unix port's tapif that Debian's liblwip ships: that tapif allocates PBUF_POOL
 * pbufs, and Debian's liblwip 2.1.3 sizes its PBUF_POOL elements for a 536-byte TCP_MSS
 * (616 bytes each) while pbuf_alloc() fills them as for its lwipopts.h's 1460, so every frame
 * over 592 bytes overflows the heap (AddressSanitizer shows it on the first full-size TCP
 * segment). It also names its tap only through the PRECONFIGURED_TAPIF environment variable and
 * gives every tap the same MAC address. This driver takes PBUF_RAM pbufs of the exact size.
 */
#ifndef LWIP_SNAT_ROUTER_TAP_H
#define LWIP_SNAT_ROUTER_TAP_H

#include "lwip/err.h"
#include "lwip/netif.h"

#include <pthread.h>

/** What tap_netif_init() needs; pass it as netif_add()'s state. */
struct tap {
  const char *name; /**< tap interface name; created if it does not exist */
  u8_t mac[6];      /**< the lwIP side's MAC address */
  int fd;           /**< /dev/net/tun, attached to the tap (set by tap_netif_init) */
  int fd_error;     /**< errno of the last failed open/ioctl, for the caller's message */
  pthread_t reader; /**< the thread that reads frames from the tap */
  /** Called once, from the reader thread, when the tap fails for good (its interface was deleted,
   * e.g. with the namespace it was moved to): no frame will ever come from it again. NULL: only
   * the message on stderr. */
  void (*failed)(const struct tap *tap, int err);
};

/**
 * netif_add() init function: opens /dev/net/tun and attaches it to tap->name (creating a
 * non-persistent tap that disappears with the process), sets up the netif for Ethernet (ARP,
 * MTU 1500) with output through the tap, and starts the thread that reads frames and hands them
 * to netif->input. Returns ERR_IF if the tap cannot be opened (tap->fd_error says why). If
 * reading fails later, the reader says so on stderr, calls tap->failed and ends.
 */
err_t tap_netif_init(struct netif *netif);

#endif /* LWIP_SNAT_ROUTER_TAP_H */
