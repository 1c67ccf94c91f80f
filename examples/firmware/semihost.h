/* ARM semihosting: console output and the exit status QEMU reports (-semihosting-config enable=on). */
#ifndef FIRMWARE_SEMIHOST_H
#define FIRMWARE_SEMIHOST_H

#include <stdint.h>

/** Writes a NUL-terminated string to the host's console. */
void semihost_puts(const char *s);
/** Writes a 32-bit value as 0x%08x. */
void semihost_puthex(uint32_t v);
/** Writes an unsigned decimal number. */
void semihost_putdec(uint32_t v);
/** Ends the emulation; QEMU exits with `code` (SYS_EXIT_EXTENDED). */
void semihost_exit(uint32_t code) __attribute__((noreturn));

#endif
