/*
 * lwIP 2.2 options for the host harness of tests/lwip22_hairpin.rs: the router of
 * tests/lwip/router.c (NO_SYS=1, two IP-only netifs) with lwip-snat in LWIP_HOOK_IP4_INPUT,
 * and IP_FORWARD_ALLOW_TX_ON_RX_NETIF so that ip4_forward() may send a packet back out of the
 * netif it came in on, which hairpinning needs (Debian's liblwip 2.1.3 lacks it).
 */
#ifndef LWIP22_LWIPOPTS_H
#define LWIP22_LWIPOPTS_H

#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_NETCONN                    0
#define LWIP_SOCKET                     0

/* A router: forward (also back out of the input netif), fragment, reassemble. */
#define IP_FORWARD                      1
#define IP_FORWARD_ALLOW_TX_ON_RX_NETIF 1
#define IP_REASSEMBLY                   1
#define IP_FRAG                         1
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_ICMP                       1
#define LWIP_UDP                        1
#define LWIP_TCP                        1
#define LWIP_RAW                        0
#define LWIP_ARP                        0
#define LWIP_ETHERNET                   0
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0
#define LWIP_DNS                        0
#define LWIP_IGMP                       0
/* lwIP's IP counters only (the "ipstats" command of tests/lwip/router.c), to hold the hook's
 * forwarding to counting what lwIP counts. */
#define LWIP_STATS                      1
#define LWIP_STATS_DISPLAY              0
#define IP_STATS                        1
#define LINK_STATS                      0
#define ETHARP_STATS                    0
#define IPFRAG_STATS                    0
#define ICMP_STATS                      0
#define IGMP_STATS                      0
#define UDP_STATS                       0
#define TCP_STATS                       0
#define MEM_STATS                       0
#define MEMP_STATS                      0
#define SYS_STATS                       0
/* PERF_STOP("ip4_forward") counts the packets lwIP forwarded itself (arch/perf.h, port.c):
 * those the hook forwarded never get there. */
#define LWIP_PERF                       1
#define LWIP_NETIF_LOOPBACK             0
#define LWIP_HAVE_LOOPIF                0
/* the shim watches netif changes when lwIP makes them, not per packet */
#define LWIP_NETIF_EXT_STATUS_CALLBACK  1

/* Every pbuf and pool element from libc malloc, as in Debian's build: AddressSanitizer (on
 * the harness and the shim) sees each one. */
#define MEM_LIBC_MALLOC                 1
#define MEMP_MEM_MALLOC                 1
#define MEM_ALIGNMENT                   8

/* lwIP 2.2 zeroes the L3/L4 checksums of *forwarded* packets whenever CHECKSUM_GEN_* is true
 * as a C expression (ip4_forward(): "setting checksums to 0 for checksum offload netifs"), which
 * would erase the checksums the NAT just fixed. lwIP tests CHECKSUM_GEN_* with `#if` wherever it
 * checksums its own packets and only ip4_forward() uses them in C `if`s. LWIP22_PP_ONLY is 1 in
 * `#if` (uintmax_t arithmetic: 0xFFFFFFFF + 1 is not 0) and 0 in C (32-bit unsigned int wraps),
 * with no identifier for lwIP's -Wundef to report, so lwIP checksums everything it sends itself
 * and leaves forwarded packets as the NAT wrote them (the same trick as
 * examples/firmware/lwipopts.h). The tests recompute every forwarded checksum and refuse a zero one. */
#define LWIP22_PP_ONLY                  ((0xFFFFFFFFu + 1u) != 0u)
#ifdef LWIP22_STOCK_CHECKSUMS
/* lwIP's defaults, for the programs built with this define (lwIP itself is built once, without
 * it: only ip4_forward() reads these in C, and the hook forwards in its place) */
#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_UDP                1
#define CHECKSUM_GEN_TCP                1
#define CHECKSUM_GEN_ICMP               1
#else
#define CHECKSUM_GEN_IP                 LWIP22_PP_ONLY
#define CHECKSUM_GEN_UDP                LWIP22_PP_ONLY
#define CHECKSUM_GEN_TCP                LWIP22_PP_ONLY
#define CHECKSUM_GEN_ICMP               LWIP22_PP_ONLY
#endif
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_UDP              1
#define CHECKSUM_CHECK_TCP              1
#define CHECKSUM_CHECK_ICMP             1

/* The NAT sits in ip4_input(): the lines c-shim/lwip_snat_hook.h tells users to paste. */
#define LWIP_HOOK_FILENAME              "lwip_snat_hook.h"
#define LWIP_HOOK_IP4_INPUT(p, inp)     lwip_snat_ip4_input_hook(p, inp)
/* Optional: ip4_forward() takes the route the hook worked out instead of looking it up again. */
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) lwip_snat_ip4_route_src(src, dest)
/* That route hook is the shim's alone: the shim may cache its route lookups between netif changes. */
#define LWIP_SNAT_ROUTE_HOOKS_CACHEABLE 1

/* A firmware's own forwarding policy (tests/lwip22/port.c): class E destinations (240/4 but
 * the limited broadcast), which lwIP's ip4_canforward() refuses, are forwarded; the rest is
 * left to lwIP (-1). The shim must decide as ip4_forward() does, or such a packet would leave
 * untranslated. */
struct pbuf;
int lwip22_canforward(struct pbuf *p, unsigned long addr);
#ifndef LWIP22_SHIM_WITHOUT_CANFORWARD
#define LWIP_HOOK_IP4_CANFORWARD(p, addr) lwip22_canforward((p), (addr))
#endif
/* (LWIP22_SHIM_WITHOUT_CANFORWARD: the programs built with it see no such hook, for the shim's
 * own ip4_canforward() tests; lwIP itself, built once, still has it, which differs only for
 * class E destinations) */

#endif /* LWIP22_LWIPOPTS_H */
