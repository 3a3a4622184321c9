/* SPDX-License-Identifier: GPL-2.0-only */
/* The one reading of the clocks, in microseconds: CLOCK_MONOTONIC for
 * intervals and deadlines, CLOCK_REALTIME for what people and records see. */
#ifndef CGWARDEN_CLOCK_H
#define CGWARDEN_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_usec(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t mono_usec(void)
{
	return clock_usec(CLOCK_MONOTONIC);
}

static inline uint64_t wall_usec(void)
{
	return clock_usec(CLOCK_REALTIME);
}

#endif
