/**
 * @file
 * lwip-snat's netif input wrapper for a prebuilt lwIP without LWIP_HOOK_IP4_INPUT: the path
 * ethernet_input() and ip4_input() take when the hook is compiled in, built from lwIP's public
 * functions (see lwip_snat_netif.h).
 */

/*
 * Copyright (c) 2025 The lwip-snat authors. BSD-3-Clause, like lwIP.
 */
#include "lwip/opt.h"

#include "lwip_snat_netif.h"

#include "lwip_snat_hook.h"

#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#if !NO_SYS
#include "lwip/tcpip.h"
#endif
#if LWIP_ETHERNET
#include "lwip/prot/ethernet.h"
#include "netif/ethernet.h"

#include <string.h> /* eth_addr_cmp() */
#endif

err_t
lwip_snat_ip4_input(struct pbuf *p, struct netif *inp)
{
  /* ip4_input() with LWIP_HOOK_IP4_INPUT: the version check, then the hook */
  if ((p->len >= 1) && ((((const u8_t *)p->payload)[0] >> 4) == 4) && lwip_snat_ip4_input_hook(p, inp)) {
    return ERR_OK; /* the hook consumed it: dropped, answered, held or re-injected */
  }
  return ip4_input(p, inp);
}

#if LWIP_ETHERNET
/* What ethernet_input() does for an IPv4 frame before it calls ip4_input(): mark link-layer
 * broadcast and multicast (ip4_forward() never forwards those), strip the header. */
static err_t
lwip_snat_ethernet_input(struct pbuf *p, struct netif *netif)
{
  const struct eth_hdr *eth;

  if ((p->len <= SIZEOF_ETH_HDR) || !(netif->flags & NETIF_FLAG_ETHARP)) {
    return ethernet_input(p, netif); /* drops it, counting as lwIP does */
  }
  eth = (const struct eth_hdr *)p->payload;
  if (eth->type != PP_HTONS(ETHTYPE_IP)) {
    return ethernet_input(p, netif); /* ARP, IPv6, VLAN: lwIP's own path */
  }
  if (p->if_idx == NETIF_NO_INDEX) {
    p->if_idx = netif_get_index(netif);
  }
  if (eth->dest.addr[0] & 1) {
    if ((eth->dest.addr[0] == LL_IP4_MULTICAST_ADDR_0) && (eth->dest.addr[1] == LL_IP4_MULTICAST_ADDR_1) &&
        (eth->dest.addr[2] == LL_IP4_MULTICAST_ADDR_2)) {
      p->flags |= PBUF_FLAG_LLMCAST;
    } else if (eth_addr_cmp(&eth->dest, &ethbroadcast)) {
      p->flags |= PBUF_FLAG_LLBCAST;
    }
  }
  if (pbuf_remove_header(p, SIZEOF_ETH_HDR) != 0) {
    pbuf_free(p);
    return ERR_OK;
  }
  return lwip_snat_ip4_input(p, netif);
}
#endif /* LWIP_ETHERNET */

/* The input in lwIP's core context: by the netif's kind, as lwIP's own netif input would. */
static err_t
lwip_snat_netif_input_core(struct pbuf *p, struct netif *inp)
{
#if LWIP_ETHERNET
  if (inp->flags & (NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET)) {
    return lwip_snat_ethernet_input(p, inp);
  }
#endif /* LWIP_ETHERNET */
  return lwip_snat_ip4_input(p, inp);
}

err_t
lwip_snat_netif_input(struct pbuf *p, struct netif *inp)
{
#if NO_SYS
  return lwip_snat_netif_input_core(p, inp);
#elif LWIP_TCPIP_CORE_LOCKING
  /* Under the core lock in the caller's thread, not through the tcpip thread's mailbox (whose
   * overflow is silent loss): a busy router slows the driver down, and its queue pushes back on
   * the sender as a real link does. */
  err_t err;
  LOCK_TCPIP_CORE();
  err = lwip_snat_netif_input_core(p, inp);
  UNLOCK_TCPIP_CORE();
  return err;
#else
  return tcpip_inpkt(p, inp, lwip_snat_netif_input_core);
#endif
}
