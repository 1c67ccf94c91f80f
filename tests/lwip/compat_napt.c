/*
 * esp-lwip's NAPT API through real lwIP: tests/lwip/router.c's router (lan = an ESP32's
 * SoftAP 192.168.1.1/24, wan = its station 10.0.0.1/24) with the compat layer
 * (c-shim/compat/napt.c) on top, driven by tests/lwip_compat.rs. The extra commands:
 *
 *   repeater                          the setup of an AP+STA repeater firmware (below)
 *   napt_enable <ip> <0|1>            ip_napt_enable(addr of <ip>, ...)
 *   napt_enable_no <num> <0|1>        ip_napt_enable_no()
 *   napt_enable_netif <lan|wan|none> <0|1>   ip_napt_enable_netif(): prints "ret <n>"
 *   portmap_add <proto> <maddr> <mport> <daddr> <dport>   prints "ret <n>"
 *   portmap_get <proto> <mport>       prints "portmap <maddr> <daddr> <dport>" or "ret 0"
 *   portmap_remove <proto> <mport>    prints "ret <n>"
 *   napt_stats                        ip_napt_get_stats(): prints "napt <tcp> <udp> <icmp> <evicted>"
 *   netif_num <lan|wan>               prints "num <netif->num>"
 */
#include "lwip/opt.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/prot/ip.h"

#include "lwip_snat_compat_napt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int router_extra_command(const char *cmd, const char *a, const char *b, const char *c, const char *d, const char *e);

/*
 * What an ESP32 repeater firmware does once its SoftAP is up and its station has an address:
 * masquerade the AP's clients, and forward the station's port 8080 to the web server of the
 * client 192.168.1.2 and UDP port 5000 to the same client's port 5001.
 */
static void
repeater_start(struct netif *ap_netif, struct netif *sta_netif)
{
  u32_t sta_addr = ip_2_ip4(&sta_netif->ip_addr)->addr;

  ip_napt_enable(ip_2_ip4(&ap_netif->ip_addr)->addr, 1);
  ip_portmap_add(IP_PROTO_TCP, sta_addr, 8080, ipaddr_addr("192.168.1.2"), 80);
  ip_portmap_add(IP_PROTO_UDP, sta_addr, 5000, ipaddr_addr("192.168.1.2"), 5001);
}

static struct netif *
named(const char *name)
{
  if (name == NULL) {
    return NULL;
  }
  if (strcmp(name, "lan") == 0) {
    return netif_get_by_index(1);
  }
  if (strcmp(name, "wan") == 0) {
    return netif_get_by_index(2);
  }
  return NULL;
}

int
router_extra_command(const char *cmd, const char *a, const char *b, const char *c, const char *d, const char *e)
{
  if (strcmp(cmd, "repeater") == 0) {
    repeater_start(named("lan"), named("wan"));
    return 0;
  }
  if (strcmp(cmd, "napt_enable") == 0 && b != NULL) {
    ip_napt_enable(ipaddr_addr(a), atoi(b));
    return 0;
  }
  if (strcmp(cmd, "napt_enable_no") == 0 && b != NULL) {
    ip_napt_enable_no((u8_t)atoi(a), atoi(b));
    return 0;
  }
  if (strcmp(cmd, "napt_enable_netif") == 0 && b != NULL) {
    printf("ret %d\n", ip_napt_enable_netif(named(a), atoi(b)));
    return 0;
  }
  if (strcmp(cmd, "portmap_add") == 0 && e != NULL) {
    printf("ret %u\n", ip_portmap_add((u8_t)atoi(a), ipaddr_addr(b), (u16_t)atoi(c), ipaddr_addr(d), (u16_t)atoi(e)));
    return 0;
  }
  if (strcmp(cmd, "portmap_get") == 0 && b != NULL) {
    u32_t maddr, daddr;
    u16_t dport;
    ip4_addr_t m, dst;
    char mtext[16];
    if (!ip_portmap_get((u8_t)atoi(a), (u16_t)atoi(b), &maddr, &daddr, &dport)) {
      printf("ret 0\n");
      return 0;
    }
    ip4_addr_set_u32(&m, maddr);
    ip4_addr_set_u32(&dst, daddr);
    strcpy(mtext, ip4addr_ntoa(&m));
    printf("portmap %s %s %u\n", mtext, ip4addr_ntoa(&dst), dport);
    return 0;
  }
  if (strcmp(cmd, "portmap_remove") == 0 && b != NULL) {
    printf("ret %u\n", ip_portmap_remove((u8_t)atoi(a), (u16_t)atoi(b)));
    return 0;
  }
  if (strcmp(cmd, "napt_stats") == 0) {
    struct stats_ip_napt st;
    ip_napt_get_stats(&st);
    printf("napt %lu %lu %lu %lu\n", (unsigned long)st.nr_active_tcp, (unsigned long)st.nr_active_udp,
           (unsigned long)st.nr_active_icmp, (unsigned long)st.nr_forced_evictions);
    return 0;
  }
  if (strcmp(cmd, "netif_num") == 0 && named(a) != NULL) {
    printf("num %u\n", named(a)->num);
    return 0;
  }
  return -100;
}
