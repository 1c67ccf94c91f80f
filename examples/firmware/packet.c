/* Test packets as plain bytes, see packet.h. Checksums are always computed from scratch here,
 * never incrementally, so they are an independent oracle for the NAT's incremental updates. */
#include "packet.h"

#include <string.h>

static uint16_t next_ip_id = 0x4000;

uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
uint32_t rd32(const uint8_t *p) { return ((uint32_t)rd16(p) << 16) | rd16(p + 2); }
void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)(v >> 16)); wr16(p + 2, (uint16_t)v); }

uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
  size_t i;
  for (i = 0; i + 1 < len; i += 2) {
    sum += rd16(data + i);
  }
  if (i < len) {
    sum += (uint32_t)data[i] << 8;
  }
  while (sum >> 16) {
    sum = (sum & 0xffffu) + (sum >> 16);
  }
  return sum;
}

uint16_t csum_fold(uint32_t sum)
{
  while (sum >> 16) {
    sum = (sum & 0xffffu) + (sum >> 16);
  }
  return (uint16_t)sum;
}

/* Sum of the TCP/UDP pseudo-header. */
static uint32_t pseudo_sum(const uint8_t *ip, uint16_t l4len)
{
  uint32_t sum = csum_add(0, ip + 12, 8);
  return sum + PKT_PROTO(ip) + l4len;
}

void fix_ip_checksum(uint8_t *ip)
{
  wr16(ip + 10, 0);
  wr16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, PKT_HLEN(ip))));
}

static uint8_t *ip_header(struct pkt *p, uint8_t proto, uint32_t src, uint32_t dst, uint8_t ttl, uint16_t l4len)
{
  uint8_t *ip = p->b;
  p->len = (uint16_t)(20u + l4len);
  memset(ip, 0, 20);
  ip[0] = 0x45;
  wr16(ip + 2, p->len);
  wr16(ip + 4, next_ip_id++);
  ip[8] = ttl;
  ip[9] = proto;
  wr32(ip + 12, src);
  wr32(ip + 16, dst);
  fix_ip_checksum(ip);
  return ip + 20;
}

static void fix_l4_checksum(struct pkt *p)
{
  uint8_t *ip = p->b, *l4 = PKT_L4(ip);
  uint16_t l4len = (uint16_t)(PKT_LEN(ip) - PKT_HLEN(ip));
  uint8_t *field = PKT_PROTO(ip) == PKT_PROTO_TCP ? l4 + 16 : PKT_PROTO(ip) == PKT_PROTO_UDP ? l4 + 6 : l4 + 2;
  uint32_t sum = PKT_PROTO(ip) == PKT_PROTO_ICMP ? 0 : pseudo_sum(ip, l4len);
  uint16_t c;
  wr16(field, 0);
  c = (uint16_t)~csum_fold(csum_add(sum, l4, l4len));
  if (c == 0 && PKT_PROTO(ip) == PKT_PROTO_UDP) {
    c = 0xffff;
  }
  wr16(field, c);
}

void build_udp(struct pkt *p, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t ttl,
               const uint8_t *payload, uint16_t plen)
{
  uint8_t *udp = ip_header(p, PKT_PROTO_UDP, src, dst, ttl, (uint16_t)(8u + plen));
  wr16(udp, sport);
  wr16(udp + 2, dport);
  wr16(udp + 4, (uint16_t)(8u + plen));
  if (plen) {
    memcpy(udp + 8, payload, plen);
  }
  fix_l4_checksum(p);
}

void build_tcp(struct pkt *p, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq,
               uint32_t ack, uint8_t flags, uint16_t mss, const uint8_t *payload, uint16_t plen)
{
  uint16_t hlen = mss ? 24u : 20u;
  uint8_t *tcp = ip_header(p, PKT_PROTO_TCP, src, dst, 64, (uint16_t)(hlen + plen));
  memset(tcp, 0, hlen);
  wr16(tcp, sport);
  wr16(tcp + 2, dport);
  wr32(tcp + 4, seq);
  wr32(tcp + 8, ack);
  tcp[12] = (uint8_t)((hlen / 4u) << 4);
  tcp[13] = flags;
  wr16(tcp + 14, 0xffff);
  if (mss) {
    tcp[20] = 2;
    tcp[21] = 4;
    wr16(tcp + 22, mss);
  }
  if (plen) {
    memcpy(tcp + hlen, payload, plen);
  }
  fix_l4_checksum(p);
}

void build_echo(struct pkt *p, uint8_t type, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
                const uint8_t *payload, uint16_t plen)
{
  uint8_t *icmp = ip_header(p, PKT_PROTO_ICMP, src, dst, 64, (uint16_t)(8u + plen));
  icmp[0] = type;
  icmp[1] = 0;
  wr16(icmp + 4, id);
  wr16(icmp + 6, seq);
  if (plen) {
    memcpy(icmp + 8, payload, plen);
  }
  fix_l4_checksum(p);
}

void build_icmp_error(struct pkt *p, uint8_t type, uint8_t code, uint32_t src, uint32_t dst,
                      const struct pkt *quoted, uint16_t quote_len)
{
  uint8_t *icmp = ip_header(p, PKT_PROTO_ICMP, src, dst, 64, (uint16_t)(8u + quote_len));
  memset(icmp, 0, 8);
  icmp[0] = type;
  icmp[1] = code;
  memcpy(icmp + 8, quoted->b, quote_len);
  fix_l4_checksum(p);
}

void build_fragment(struct pkt *p, const struct pkt *whole, uint16_t off, uint16_t len, int more)
{
  const uint8_t *src = whole->b;
  uint16_t hlen = PKT_HLEN(src);
  memcpy(p->b, src, hlen);
  memcpy(p->b + hlen, src + hlen + off, len);
  p->len = (uint16_t)(hlen + len);
  wr16(p->b + 2, p->len);
  wr16(p->b + 6, (uint16_t)((more ? 0x2000u : 0u) | (off / 8u)));
  fix_ip_checksum(p->b);
}

int ip_checksum_ok(const uint8_t *ip)
{
  return csum_fold(csum_add(0, ip, PKT_HLEN(ip))) == 0xffff;
}

int l4_checksum_ok(const uint8_t *ip, uint16_t len)
{
  const uint8_t *l4 = PKT_L4(ip);
  if (len == 0) {
    len = (uint16_t)(PKT_LEN(ip) - PKT_HLEN(ip));
  }
  switch (PKT_PROTO(ip)) {
  case PKT_PROTO_ICMP:
    return csum_fold(csum_add(0, l4, len)) == 0xffff;
  case PKT_PROTO_UDP:
    if (rd16(l4 + 6) == 0) {
      return 1;
    }
    /* fall through */
  case PKT_PROTO_TCP:
    return csum_fold(csum_add(pseudo_sum(ip, len), l4, len)) == 0xffff;
  default:
    return 0;
  }
}

int checksums_ok(const uint8_t *ip)
{
  int fragment = (rd16(ip + 6) & 0x3fffu) != 0;
  /* A fragment's PKT_L4 checksum covers the whole datagram: checked after reassembly. */
  return ip_checksum_ok(ip) && (fragment || l4_checksum_ok(ip, 0));
}

void fill_pattern(uint8_t *buf, size_t len, uint8_t mul, uint8_t add)
{
  size_t i;
  for (i = 0; i < len; i++) {
    buf[i] = (uint8_t)(i * mul + add);
  }
}
