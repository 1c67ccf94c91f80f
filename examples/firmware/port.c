/* What lwIP (NO_SYS=1) asks of the platform: a millisecond clock, random numbers and a
 * diagnostics sink. The clock is the test's: it moves only when the test says so. */
#include <stdint.h>

#include "arch/cc.h"
#include "lwip/sys.h"
#include "semihost.h"

static uint32_t clock_ms;
static uint32_t rand_state = 0x2545f491u;

u32_t sys_now(void)
{
  return clock_ms;
}

void firmware_clock_advance(uint32_t ms)
{
  clock_ms += ms;
}

uint32_t firmware_rand(void)
{
  /* xorshift32 */
  rand_state ^= rand_state << 13;
  rand_state ^= rand_state >> 17;
  rand_state ^= rand_state << 5;
  return rand_state;
}

void firmware_diag(const char *fmt, ...)
{
  semihost_puts(fmt);
}
