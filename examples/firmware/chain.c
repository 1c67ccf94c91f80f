/* Chained pbufs through the hook: established TCP and UDP flows fed out and in as chains of
 * small PBUF_POOL pbufs, the way Ethernet drivers deliver frames. A chain whose first pbuf holds
 * the IP and transport headers is translated in place (lwip_snat_hook_copies() stays put); an
 * ICMP error, a fragment, or headers split across pbufs is copied once into a contiguous pbuf.
 * Every packet lwIP sends is checked byte by byte, with checksums recomputed over all of it. */
#include <string.h>

#include "chain.h"
#include "lwip/pbuf.h"
#include "lwip_snat_hook.h"
#include "netifs.h"
#include "semihost.h"

#define H IPV4(192, 168, 1, 20)
#define R IPV4(198, 51, 100, 9)

static chain_check_fn *check;
static struct pkt in, out_udp, whole, frag;

/* `p` as a chain of PBUF_POOL pbufs: `first` bytes in the first, `piece` in each of the others
 * (the firmware's pool has 16 buffers); NULL when the pool runs out. */
static struct pbuf *chain_of(const struct pkt *p, uint16_t first, uint16_t piece)
{
  struct pbuf *head = NULL;
  uint16_t off = 0;
  while (off < p->len) {
    uint16_t n = (off == 0) ? first : piece;
    struct pbuf *q;
    if (n > p->len - off) {
      n = (uint16_t)(p->len - off);
    }
    q = pbuf_alloc(PBUF_RAW, n, PBUF_POOL);
    if (q == NULL || q->len != n) {
      if (q != NULL) {
        pbuf_free(q);
      }
      if (head != NULL) {
        pbuf_free(head);
      }
      return NULL;
    }
    memcpy(q->payload, p->b + off, n);
    if (head == NULL) {
      head = q;
    } else {
      pbuf_cat(head, q);
    }
    off = (uint16_t)(off + n);
  }
  return head;
}

/* Hands `p` to lwIP on `inp` as a chain (see chain_of); 1 if it was one. */
static int inject_chain(struct netif *inp, const struct pkt *p, uint16_t first, uint16_t piece)
{
  struct pbuf *q = chain_of(p, first, piece);
  int chained;
  if (q == NULL) {
    semihost_puts("FAIL: out of pbufs\n");
    semihost_exit(96);
  }
  chained = q->next != NULL && q->len == first && q->tot_len == p->len;
  sent_clear();
  if (inp->input(q, inp) != ERR_OK) {
    pbuf_free(q);
  }
  return chained;
}

/* Feeds `p` as a chain (16-byte pbufs after the first) and returns the one packet lwIP sent, by `expect`, or NULL (failed). */
static const uint8_t *send_chain(struct netif *inp, const struct pkt *p, uint16_t first, struct netif *expect,
                                 const char *what)
{
  int ok = inject_chain(inp, p, first, 16);
  ok = ok && sent_count() == 1 && sent_at(0)->netif == expect;
  check(ok, what);
  return ok ? sent_at(0)->pkt.b : NULL;
}

static int payload_is(const uint8_t *ip, uint16_t l4_header, const void *data, uint16_t len)
{
  return PKT_LEN(ip) == PKT_HLEN(ip) + l4_header + len && memcmp(PKT_L4(ip) + l4_header, data, len) == 0;
}

static void chain_udp(void)
{
  static const char query[] = "a query that spans several small pool buffers",
                    answer[] = "an answer that spans several small pool buffers too";
  const uint8_t *ip;
  uint16_t ext = 0;
  uint32_t copies = lwip_snat_hook_copies();

  semihost_puts("UDP H:41000 -> R:53 as chains of 16-byte pbufs (headers in the first)\n");
  build_udp(&in, H, 41000, R, 53, 64, (const uint8_t *)query, sizeof query);
  ip = send_chain(&lan, &in, 28, &wan, "chained datagram (first pbuf: IP + UDP header) leaves by wan");
  if (ip) {
    check(PKT_SRC(ip) == WAN_ADDR && PKT_DST(ip) == R && PKT_SPORT(ip) == 41000 && PKT_DPORT(ip) == 53,
          "chain out: source is the wan address, ports kept");
    check(PKT_TTL(ip) == 63 && checksums_ok(ip) && rd16(PKT_L4(ip) + 6) != 0,
          "chain out: TTL decremented, IP and UDP checksums verify over the whole chain");
    check(payload_is(ip, 8, query, sizeof query), "chain out: payload unchanged");
    ext = PKT_SPORT(ip);
    out_udp = sent_at(0)->pkt;
  }
  build_udp(&in, R, 53, WAN_ADDR, ext, 64, (const uint8_t *)answer, sizeof answer);
  ip = send_chain(&wan, &in, 40, &lan, "chained reply (first pbuf: headers + 12 bytes) reaches lan");
  if (ip) {
    check(PKT_SRC(ip) == R && PKT_DST(ip) == H && PKT_SPORT(ip) == 53 && PKT_DPORT(ip) == 41000,
          "chain in: addressed to the inside endpoint");
    check(checksums_ok(ip) && rd16(PKT_L4(ip) + 6) != 0, "chain in: IP and UDP checksums verify");
    check(payload_is(ip, 8, answer, sizeof answer), "chain in: payload unchanged");
  }
  check(lwip_snat_hook_copies() == copies, "headers in the first pbuf: no copy made (translated in place)");

  semihost_puts("ICMP port unreachable about it, as a chain: copied once\n");
  build_icmp_error(&in, 3, 3, R, WAN_ADDR, &out_udp, out_udp.len);
  ip = send_chain(&wan, &in, 28, &lan, "chained ICMP error reaches lan");
  if (ip) {
    const uint8_t *quoted = PKT_L4(ip) + 8;
    check(PKT_DST(ip) == H && PKT_SRC(quoted) == H && PKT_SPORT(quoted) == 41000,
          "chained error: outer and quoted headers show the inside endpoint");
    check(ip_checksum_ok(ip) && l4_checksum_ok(ip, 0) && ip_checksum_ok(quoted) && l4_checksum_ok(quoted, 0),
          "chained error: outer and quoted checksums verify");
  }
  check(lwip_snat_hook_copies() == copies + 1, "the ICMP error chain was copied once");
}

static void chain_tcp(void)
{
  static const char get[] = "GET /a/longer/path/than/one/pool/buffer HTTP/1.0\r\n\r\n",
                    reply[] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  const uint8_t *ip;
  uint16_t ext = 0;
  uint32_t copies;

  semihost_puts("TCP H:41001 -> R:80 established, data as chains of 16-byte pbufs\n");
  build_tcp(&in, H, 41001, R, 80, 7000, 0, PKT_SYN, 1400, NULL, 0);
  sent_clear();
  inject(&lan, &in);
  check(sent_count() == 1 && sent_at(0)->netif == &wan, "SYN leaves by wan");
  ext = sent_count() == 1 ? PKT_SPORT(sent_at(0)->pkt.b) : 0;
  build_tcp(&in, R, 80, WAN_ADDR, ext, 9000, 7001, PKT_SYN | PKT_ACK, 1400, NULL, 0);
  sent_clear();
  inject(&wan, &in);
  check(sent_count() == 1 && sent_at(0)->netif == &lan, "SYN-ACK reaches lan");

  copies = lwip_snat_hook_copies();
  build_tcp(&in, H, 41001, R, 80, 7001, 9001, PKT_ACK | PKT_PSH, 0, (const uint8_t *)get, sizeof get);
  ip = send_chain(&lan, &in, 40, &wan, "chained segment (first pbuf: IP + TCP header) leaves by wan");
  if (ip) {
    check(PKT_SRC(ip) == WAN_ADDR && PKT_SPORT(ip) == ext && PKT_DPORT(ip) == 80,
          "chain out: same mapping as the handshake");
    check(rd32(PKT_L4(ip) + 4) == 7001 && rd32(PKT_L4(ip) + 8) == 9001, "chain out: sequence numbers kept");
    check(checksums_ok(ip) && payload_is(ip, 20, get, sizeof get),
          "chain out: IP and TCP checksums verify over the whole chain, payload unchanged");
  }
  build_tcp(&in, R, 80, WAN_ADDR, ext, 9001, 7001 + sizeof get, PKT_ACK | PKT_PSH, 0, (const uint8_t *)reply,
            sizeof reply);
  ip = send_chain(&wan, &in, 48, &lan, "chained segment (first pbuf: headers + 8 bytes) reaches lan");
  if (ip) {
    check(PKT_SRC(ip) == R && PKT_DST(ip) == H && PKT_DPORT(ip) == 41001, "chain in: to the inside endpoint");
    check(checksums_ok(ip) && payload_is(ip, 20, reply, sizeof reply),
          "chain in: IP and TCP checksums verify, payload unchanged");
  }
  check(lwip_snat_hook_copies() == copies, "headers in the first pbuf: no copy made (translated in place)");

  build_tcp(&in, H, 41001, R, 80, 7001 + sizeof get, 9001 + sizeof reply, PKT_ACK | PKT_PSH, 0,
            (const uint8_t *)get, sizeof get);
  ip = send_chain(&lan, &in, 28, &wan, "segment whose TCP header runs past the first pbuf leaves by wan");
  if (ip) {
    check(PKT_SRC(ip) == WAN_ADDR && PKT_SPORT(ip) == ext && checksums_ok(ip) && payload_is(ip, 20, get, sizeof get),
          "split header: translated, checksums verify, payload unchanged");
  }
  check(lwip_snat_hook_copies() == copies + 1, "split header: copied once");
}

static void chain_fragments(void)
{
  static uint8_t data[600];
  uint32_t copies = lwip_snat_hook_copies();

  semihost_puts("UDP H:41002 -> R:9999 in two fragments, each a chain: copied for reassembly\n");
  fill_pattern(data, sizeof data, 5u, 1u);
  build_udp(&whole, H, 41002, R, 9999, 64, data, sizeof data);
  sent_clear();
  build_fragment(&frag, &whole, 0, 304, 1);
  inject_chain(&lan, &frag, 28, 128);
  check(sent_count() == 0, "nothing leaves before the datagram is complete");
  build_fragment(&frag, &whole, 304, (uint16_t)(whole.len - 20u - 304u), 0);
#if !defined(LWIP_SNAT_FEATURE_REASSEMBLY)
  /* built without reassembly: fragments on a NAT path are dropped and counted, never sent */
  check(inject_chain(&lan, &frag, 20, 128) && sent_count() == 0, "without reassembly: neither fragment leaves");
  check(lwip_snat_hook_copies() == copies + 2, "each fragment chain was copied once");
  return;
#endif
  check(inject_chain(&lan, &frag, 20, 128) && sent_count() == 1 && sent_at(0)->netif == &wan,
        "the reassembled datagram leaves by wan");
  if (sent_count() == 1) {
    const uint8_t *ip = sent_at(0)->pkt.b;
    check(PKT_SRC(ip) == WAN_ADDR && PKT_SPORT(ip) == 41002 && PKT_DPORT(ip) == 9999,
          "reassembled: source is the wan address, ports kept");
    check(checksums_ok(ip) && rd16(PKT_L4(ip) + 6) != 0 && payload_is(ip, 8, data, sizeof data),
          "reassembled: checksums verify, all 600 payload bytes unchanged");
  }
  check(lwip_snat_hook_copies() == copies + 2, "each fragment chain was copied once");
}

void chain_flows(chain_check_fn *check_fn)
{
  check = check_fn;
  chain_udp();
  chain_tcp();
  chain_fragments();
}
