/*
 * clock.h — the monotonic clock in milliseconds, for timing steps (an import's chunks, the
 * removal of a failed batch): never goes back when the wall clock is set.
 */
#ifndef NSDB_UTIL_CLOCK_H
#define NSDB_UTIL_CLOCK_H

#include <stdint.h>

int64_t clock_monotonic_ms(void);

#endif
