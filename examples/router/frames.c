/**
 * @file
 * The router's input path: tap frame -> (core lock) Ethernet -> NAT hook -> ip4_input().
 * See frames.h for why the path is built by hand.
 */
#include "frames.h"

#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include <string.h> /* eth_addr_cmp() */

#include "lwip_snat_hook.h"

/* What ethernet_input() does for an IPv4 frame before it calls ip4_input(): mark link-layer
 * broadcast and multicast (ip4_forward() never forwards those), strip the header. */
static err_t
router_ethernet_input(struct pbuf *p, struct netif *netif)
{
  const struct eth_hdr *eth;

  if ((p->len <= SIZEOF_ETH_HDR) || !(netif->flags & NETIF_FLAG_ETHARP)) {
    return ethernet_input(p, netif); /* drops it, counting as lwIP does */
  }
  eth = (const struct eth_hdr *)p->payload;
  if (eth->type != PP_HTONS(ETHTYPE_IP)) {
    return ethernet_input(p, netif); /* ARP, IPv6: lwIP's own path */
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
  return router_ip4_input(p, netif);
}

err_t
router_ip4_input(struct pbuf *p, struct netif *inp)
{
  /* ip4_input() with LWIP_HOOK_IP4_INPUT: the version check, then the hook */
  if ((p->len >= 1) && ((((const u8_t *)p->payload)[0] >> 4) == 4) && lwip_snat_ip4_input_hook(p, inp)) {
    return ERR_OK; /* the hook consumed it: dropped, answered, held or re-injected */
  }
  return ip4_input(p, inp);
}

err_t
router_netif_input(struct pbuf *p, struct netif *inp)
{
  /* tcpip_inpkt() with LWIP_TCPIP_CORE_LOCKING_INPUT: run the input in this thread under the
   * core lock. Unlike posting to the tcpip thread's mailbox (128 messages in the unix port,
   * overflow = silent loss), a busy router then slows the reader down, and the tap's queue
   * pushes back on the sending host as a real link does. */
  err_t err;
  LOCK_TCPIP_CORE();
  err = router_ethernet_input(p, inp);
  UNLOCK_TCPIP_CORE();
  return err;
}
