/* timer.h on every Cortex-M: SysTick on the processor clock (QEMU derives it from virtual time),
 * counting down over 24 bits; a measured window must stay below 2^24 ticks. */
#include "timer.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_MASK 0x00FFFFFFu

void timer_start(void)
{
  SYST_CSR = 0;
  SYST_RVR = SYST_MASK;
  SYST_CVR = 0;
  SYST_CSR = 0x5u; /* ENABLE, CLKSOURCE = processor clock, no interrupt */
}

uint32_t timer_read(void)
{
  return SYST_CVR;
}

uint32_t timer_elapsed(uint32_t from, uint32_t to)
{
  return (from - to) & SYST_MASK;
}
