/* Reset and fault handlers (plus the vector table on Cortex-M): copies .data, clears .bss,
 * enables the FPU where the code is built for one (the Rust core of a hard-float target uses it)
 * and runs main(); main's return value becomes QEMU's exit status through semihosting. On
 * RISC-V, boards/virt-rv32/entry.S sets the stack and trap vector and jumps to reset_handler. */
#include <stdint.h>
#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);

void reset_handler(void) __attribute__((noreturn));
void fault_handler(void) __attribute__((noreturn));

void reset_handler(void)
{
  const uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) {
    *dst++ = *src++;
  }
  for (uint32_t *dst = &_sbss; dst < &_ebss;) {
    *dst++ = 0;
  }
#if defined(__ARM_FP)
  /* CPACR: full access to coprocessors 10 and 11 (the FPU). */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  semihost_exit((uint32_t)main());
}

void fault_handler(void)
{
  semihost_puts("FAIL: processor fault\n");
  semihost_exit(99);
}

#if defined(__ARM_ARCH)
/* Initial stack pointer, reset, NMI, HardFault, MemManage, BusFault, UsageFault. */
__attribute__((section(".vectors"), used)) static const void *const vectors[] = {
  &_estack, (const void *)reset_handler, (const void *)fault_handler, (const void *)fault_handler,
  (const void *)fault_handler, (const void *)fault_handler, (const void *)fault_handler,
};
#endif
