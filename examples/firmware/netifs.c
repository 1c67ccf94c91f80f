/* Two in-memory IP netifs, see netifs.h. */
#include "netifs.h"

#include "lwip/ip4.h"
#include "lwip/pbuf.h"
#include "semihost.h"

#define SENT_MAX 8u

struct netif lan, wan;
static struct sent sent[SENT_MAX];
static unsigned n_sent;

static err_t capture(struct netif *netif, struct pbuf *p, const ip4_addr_t *next_hop)
{
  LWIP_UNUSED_ARG(next_hop);
  if (n_sent == SENT_MAX || p->tot_len > PKT_MAX) {
    semihost_puts("FAIL: capture overflow\n");
    semihost_exit(97);
  }
  sent[n_sent].netif = netif;
  sent[n_sent].pkt.len = pbuf_copy_partial(p, sent[n_sent].pkt.b, p->tot_len, 0);
  n_sent++;
  return ERR_OK;
}

static err_t netif_setup(struct netif *netif)
{
  netif->output = capture;
  netif->mtu = 1500;
  netif->flags = NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

static void add(struct netif *netif, uint32_t addr, const char *name)
{
  ip4_addr_t ip, mask, gw;
  ip4_addr_set_u32(&ip, lwip_htonl(addr));
  ip4_addr_set_u32(&mask, lwip_htonl(0xffffff00u));
  ip4_addr_set_zero(&gw);
  netif_add(netif, &ip, &mask, &gw, NULL, netif_setup, ip4_input);
  netif->name[0] = name[0];
  netif->name[1] = name[1];
  netif_set_up(netif);
}

void netifs_init(void)
{
  add(&lan, LAN_ADDR, "ln");
  add(&wan, WAN_ADDR, "wn");
  netif_set_default(&wan);
}

void inject(struct netif *inp, const struct pkt *p)
{
  struct pbuf *q = pbuf_alloc(PBUF_RAW, p->len, PBUF_POOL);
  if (q == NULL || pbuf_take(q, p->b, p->len) != ERR_OK) {
    semihost_puts("FAIL: out of pbufs\n");
    semihost_exit(96);
  }
  if (inp->input(q, inp) != ERR_OK) {
    pbuf_free(q);
  }
}

unsigned sent_count(void) { return n_sent; }
const struct sent *sent_at(unsigned i) { return &sent[i]; }
void sent_clear(void) { n_sent = 0; }
