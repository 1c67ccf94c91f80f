/* Semihosting (`bkpt 0xab` on Cortex-M, the ebreak sequence on RISC-V): SYS_WRITE0 and
 * SYS_EXIT_EXTENDED. */
#include "semihost.h"

#define SYS_WRITE0 0x04u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t semihost_call(uint32_t op, const void *arg)
{
#if defined(__riscv)
  /* The three instructions the RISC-V semihosting spec fixes: uncompressed, one 16-byte block. */
  register uint32_t r0 __asm__("a0") = op;
  register const void *r1 __asm__("a1") = arg;
  __asm__ volatile(".option push\n\t.option norvc\n\t.balign 16\n\t"
                   "slli zero, zero, 0x1f\n\tebreak\n\tsrai zero, zero, 7\n\t.option pop"
                   : "+r"(r0) : "r"(r1) : "memory");
#else
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
#endif
  return r0;
}

void semihost_puts(const char *s)
{
  semihost_call(SYS_WRITE0, s);
}

void semihost_puthex(uint32_t v)
{
  char buf[11] = "0x";
  for (int i = 0; i < 8; i++) {
    uint32_t nibble = (v >> (28 - 4 * i)) & 0xfu;
    buf[2 + i] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
  }
  buf[10] = '\0';
  semihost_puts(buf);
}

void semihost_putdec(uint32_t v)
{
  char buf[11];
  int i = 10;
  buf[i] = '\0';
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v != 0);
  semihost_puts(&buf[i]);
}

void semihost_exit(uint32_t code)
{
  uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, code };
  semihost_call(SYS_EXIT_EXTENDED, block);
  for (;;) {
  }
}
