/* lwIP 2.2 options for the lwip-snat firmware test on a Cortex-M4F (QEMU mps2-an386):
 * a bare-metal router (NO_SYS=1) with two IP-only netifs and the NAT in LWIP_HOOK_IP4_INPUT. */
#ifndef FIRMWARE_LWIPOPTS_H
#define FIRMWARE_LWIPOPTS_H

#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_NETCONN                    0
#define LWIP_SOCKET                     0

/* A router: forward between netifs, fragment when the next hop needs it, reassemble what is
 * addressed to us. */
#define IP_FORWARD                      1
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
#define LWIP_DNS                        0
#define LWIP_IGMP                       0
#define LWIP_STATS                      0
#define LWIP_NETIF_LOOPBACK             0
#define LWIP_HAVE_LOOPIF                0
/* the NAT hears of netif changes when lwIP makes them (no address watch per packet) */
#define LWIP_NETIF_EXT_STATUS_CALLBACK  1

#define MEM_ALIGNMENT                   4
#define MEM_SIZE                        (16 * 1024)
#define PBUF_POOL_SIZE                  16
#define MEMP_NUM_REASSDATA              4
#define MEMP_NUM_FRAG_PBUF              8
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 2)

/* lwIP 2.2 from the `lwip` crate zeroes the L3/L4 checksums of *forwarded* packets whenever
 * CHECKSUM_GEN_* is true as a C expression (ip4_forward: "setting checksums to 0 for checksum
 * offload netifs"), which would erase the checksums the NAT just fixed. lwIP tests CHECKSUM_GEN_*
 * with `#if` everywhere it generates checksums for its own packets, and only ip4_forward uses
 * them in C `if`s. FIRMWARE_PP_ONLY is 1 in `#if` and 0 in C, with no identifier in it (so
 * lwIP's -Wundef stays quiet): `#if` computes in uintmax_t (at least 64 bits), where
 * 0xFFFFFFFF + 1 is not 0, C in 32-bit unsigned int, where it wraps to 0. So lwIP checksums
 * everything it sends itself and leaves forwarded packets as the NAT wrote them. The test checks
 * every forwarded checksum, so a mistake here fails the run. */
#define FIRMWARE_PP_ONLY                ((0xFFFFFFFFu + 1u) != 0u)
#define CHECKSUM_GEN_IP                 FIRMWARE_PP_ONLY
#define CHECKSUM_GEN_UDP                FIRMWARE_PP_ONLY
#define CHECKSUM_GEN_TCP                FIRMWARE_PP_ONLY
#define CHECKSUM_GEN_ICMP               FIRMWARE_PP_ONLY
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_UDP              1
#define CHECKSUM_CHECK_TCP              1
#define CHECKSUM_CHECK_ICMP             1

/* The NAT sits in ip4_input(); see c-shim/lwip_snat_hook.h. measure/measure.c also builds
 * without it (FIRMWARE_WITHOUT_NAT): lwIP's own forwarding, the reference it is compared with. */
#ifndef FIRMWARE_WITHOUT_NAT
#define LWIP_HOOK_FILENAME              "lwip_snat_hook.h"
#define LWIP_HOOK_IP4_INPUT(p, inp)     lwip_snat_ip4_input_hook(p, inp)
/* Optional: ip4_forward() takes the route the hook worked out instead of looking it up again. */
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) lwip_snat_ip4_route_src(src, dest)
/* That route hook is the shim's alone: the shim may cache its route lookups between netif changes. */
#define LWIP_SNAT_ROUTE_HOOKS_CACHEABLE 1
#endif

#endif
