/* A free-running tick counter for counting instructions under QEMU's -icount: with `shift=0`
 * every guest instruction advances virtual time by 1 ns, so a timer clocked from virtual time
 * turns instructions into ticks at a fixed rate, which calibrate() in measure.c finds. */
#ifndef FIRMWARE_TIMER_H
#define FIRMWARE_TIMER_H

#include <stdint.h>

/** Starts the counter (free-running, no interrupt). */
void timer_start(void);
/** The counter now. */
uint32_t timer_read(void);
/** Ticks from `from` to `to` (two reads), across one wrap of the counter. */
uint32_t timer_elapsed(uint32_t from, uint32_t to);

#endif
