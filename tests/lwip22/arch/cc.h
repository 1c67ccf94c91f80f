/* lwIP 2.2 port for the host harness (Linux, gcc): diagnostics to stderr (stdout carries the
 * harness's line protocol), a failed assertion aborts the run. */
#ifndef LWIP22_ARCH_CC_H
#define LWIP22_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>

void lwip22_diag(const char *fmt, ...);
void lwip22_assert(const char *msg, const char *file, int line);

#define LWIP_PLATFORM_DIAG(x) do { lwip22_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) lwip22_assert(x, __FILE__, __LINE__)

/* IP ids, TCP ISNs and the NAT's seed (lwip_snat_start): a fixed sequence is enough here. */
#define LWIP_RAND() ((u32_t)rand())

#endif /* LWIP22_ARCH_CC_H */
