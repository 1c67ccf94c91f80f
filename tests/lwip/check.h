/* CHECK(cond) for the C test programs of tests/lwip/: counts passes and failures (printing each
 * failure with its line); the program prints "<passed> passed, <failed> failed" at the end. */
#ifndef LWIP_SNAT_TEST_CHECK_H
#define LWIP_SNAT_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond) do { \
    if (cond) { \
      passed++; \
    } else { \
      failed++; \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    } \
  } while (0)

#endif
