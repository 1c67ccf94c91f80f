/* lwIP port for the firmware test: bare-metal Cortex-M, newlib headers, semihosting output. */
#ifndef FIRMWARE_ARCH_CC_H
#define FIRMWARE_ARCH_CC_H

#include <stdint.h>

#include "semihost.h"

/* lwIP's diagnostics go to the semihosting console; a failed assertion fails the test run. */
#define LWIP_PLATFORM_DIAG(x) do { firmware_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { semihost_puts("FAIL: lwIP assertion: "); semihost_puts(x); \
                                     semihost_puts("\n"); semihost_exit(98); } while (0)

/* Deterministic pseudo-random numbers (IP ids, TCP ISNs): the test needs no entropy. */
#define LWIP_RAND() firmware_rand()

/* The core this image is built for, as the firmware names it in its output. */
#if defined(__riscv)
#define FIRMWARE_CORE "RISC-V rv32imc"
#elif defined(__ARM_ARCH_6M__)
#define FIRMWARE_CORE "Cortex-M0/M0+ (ARMv6-M)"
#elif defined(__ARM_ARCH_8M_MAIN__)
#define FIRMWARE_CORE "Cortex-M33 (ARMv8-M Mainline)"
#else
#define FIRMWARE_CORE "Cortex-M4F (ARMv7E-M)"
#endif

/** printf-like diagnostics reduced to the format string (enough for LWIP_DEBUGF). */
void firmware_diag(const char *fmt, ...);
uint32_t firmware_rand(void);

#endif
