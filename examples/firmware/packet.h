/* Test packets as plain bytes: build IPv4/UDP/TCP/ICMP datagrams with correct checksums, read
 * fields back, and verify every checksum from scratch (the oracle for what the NAT rewrote). */
#ifndef FIRMWARE_PACKET_H
#define FIRMWARE_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 4096u

#define PKT_PROTO_ICMP 1u
#define PKT_PROTO_TCP 6u
#define PKT_PROTO_UDP 17u

#define PKT_FIN 0x01u
#define PKT_SYN 0x02u
#define PKT_RST 0x04u
#define PKT_PSH 0x08u
#define PKT_ACK 0x10u

/** An IPv4 datagram under construction or as captured. */
struct pkt {
  uint16_t len;
  uint8_t b[PKT_MAX];
};

/** Dotted quad to a host-order address. */
#define IPV4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

uint16_t rd16(const uint8_t *p);
uint32_t rd32(const uint8_t *p);
void wr16(uint8_t *p, uint16_t v);
void wr32(uint8_t *p, uint32_t v);

/** Internet checksum (RFC 1071) of `len` bytes, folded, not complemented; `sum` carries on. */
uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len);
uint16_t csum_fold(uint32_t sum);

/* Builders: each writes a whole datagram (IHL 5, TTL as given, DF clear, id from a counter)
 * with correct IP and PKT_L4 checksums. `payload` may be NULL for zero bytes. */
void build_udp(struct pkt *p, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t ttl,
               const uint8_t *payload, uint16_t plen);
void build_tcp(struct pkt *p, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint32_t seq,
               uint32_t ack, uint8_t flags, uint16_t mss, const uint8_t *payload, uint16_t plen);
/** ICMP echo request (type 8) or reply (type 0). */
void build_echo(struct pkt *p, uint8_t type, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
                const uint8_t *payload, uint16_t plen);
/** ICMP error `type`/`code` from `src` to `dst` quoting the first `quote_len` bytes of `quoted`. */
void build_icmp_error(struct pkt *p, uint8_t type, uint8_t code, uint32_t src, uint32_t dst,
                      const struct pkt *quoted, uint16_t quote_len);
/** Fragment `whole` at 8-byte multiples: bytes [off, off + len) of its payload, MF as given. */
void build_fragment(struct pkt *p, const struct pkt *whole, uint16_t off, uint16_t len, int more);
/** Fills `len` bytes with the pattern byte i = i * mul + add: payloads whose every byte is
 * checked after reassembly. */
void fill_pattern(uint8_t *buf, size_t len, uint8_t mul, uint8_t add);
/** Rebuilds the IP header checksum (after a test edits a header on purpose). */
void fix_ip_checksum(uint8_t *ip);

/* Readers (the header starts at `ip`). */
#define PKT_HLEN(ip) ((uint16_t)(((ip)[0] & 0x0fu) * 4u))
#define PKT_LEN(ip) rd16((ip) + 2)
#define PKT_TTL(ip) ((ip)[8])
#define PKT_PROTO(ip) ((ip)[9])
#define PKT_SRC(ip) rd32((ip) + 12)
#define PKT_DST(ip) rd32((ip) + 16)
#define PKT_L4(ip) ((ip) + PKT_HLEN(ip))
#define PKT_SPORT(ip) rd16(PKT_L4(ip))
#define PKT_DPORT(ip) rd16(PKT_L4(ip) + 2)
#define PKT_ICMP_TYPE(ip) (PKT_L4(ip)[0])
#define PKT_ICMP_CODE(ip) (PKT_L4(ip)[1])
#define PKT_ICMP_ID(ip) rd16(PKT_L4(ip) + 4)

/** 1 if the IPv4 header checksum of the datagram at `ip` verifies. */
int ip_checksum_ok(const uint8_t *ip);
/** 1 if the PKT_L4 checksum (TCP, UDP with 0 = none allowed, ICMP) verifies over `len` bytes of
 * PKT_L4 data; `len` is taken from the IP total length when 0. */
int l4_checksum_ok(const uint8_t *ip, uint16_t len);
/** 1 if both checksums verify: the check applied to every packet lwIP sends. */
int checksums_ok(const uint8_t *ip);

#endif
