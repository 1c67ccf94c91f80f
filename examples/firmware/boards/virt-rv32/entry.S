/* Entry of the RISC-V firmware on QEMU `virt` (-bios none, machine mode): a stack, a trap
 * vector that reports the fault (fault_handler in startup.c), then the common reset_handler. */
  .section .text.entry, "ax"
  .globl _start
_start:
  .option push
  .option norelax
  la sp, _estack
  .option pop
  la t0, trap
  .option push
  .option arch, +zicsr
  csrw mtvec, t0
  .option pop
  j reset_handler

  .balign 4
trap:
  j fault_handler
