/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal unit-test harness. Each test prints one line the runner counts:
 *   PASS <name> | FAIL <name>: <why> | SKIP <name>: <why>
 * (tests/run sums these across every test program.)
 */
#ifndef CGWARDEN_TEST_H
#define CGWARDEN_TEST_H

#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <inttypes.h>

static int test_failed_total;
static int test_cur_failed;
static char test_skip_reason[256];

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			printf("  %s:%d: CHECK(%s) failed\n", __FILE__,         \
			       __LINE__, #cond);                                \
			test_cur_failed++;                                      \
		}                                                               \
	} while (0)

#define CHECK_U64(a, b)                                                         \
	do {                                                                    \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                \
		if (a_ != b_) {                                                 \
			printf("  %s:%d: %s == %" PRIu64 ", expected %" PRIu64  \
			       "\n", __FILE__, __LINE__, #a, a_, b_);           \
			test_cur_failed++;                                      \
		}                                                               \
	} while (0)

#define CHECK_INT(a, b)                                                         \
	do {                                                                    \
		long long a_ = (long long)(a), b_ = (long long)(b);             \
		if (a_ != b_) {                                                 \
			printf("  %s:%d: %s == %lld, expected %lld\n", __FILE__, \
			       __LINE__, #a, a_, b_);                           \
			test_cur_failed++;                                      \
		}                                                               \
	} while (0)

#define CHECK_STR(a, b)                                                         \
	do {                                                                    \
		const char *a_ = (a), *b_ = (b);                                \
		if ((a_ == NULL) != (b_ == NULL) ||                             \
		    (a_ && strcmp(a_, b_) != 0)) {                              \
			printf("  %s:%d: %s == \"%s\", expected \"%s\"\n",      \
			       __FILE__, __LINE__, #a, a_ ? a_ : "(null)",      \
			       b_ ? b_ : "(null)");                             \
			test_cur_failed++;                                      \
		}                                                               \
	} while (0)

#define CHECK_NEAR(a, b, tol)                                                   \
	do {                                                                    \
		double a_ = (a), b_ = (b);                                      \
		if (!(a_ >= b_ - (tol) && a_ <= b_ + (tol))) {                  \
			printf("  %s:%d: %s == %g, expected %g +- %g\n",        \
			       __FILE__, __LINE__, #a, a_, b_, (double)(tol));  \
			test_cur_failed++;                                      \
		}                                                               \
	} while (0)

/* Call inside a test to report it as skipped (with the reason) and return. */
#define TEST_SKIP(...)                                                          \
	do {                                                                    \
		snprintf(test_skip_reason, sizeof(test_skip_reason), __VA_ARGS__); \
		return;                                                         \
	} while (0)

#define RUN(fn)                                                                 \
	do {                                                                    \
		test_cur_failed = 0;                                            \
		test_skip_reason[0] = '\0';                                     \
		fn();                                                           \
		if (test_cur_failed) {                                          \
			printf("FAIL %s: %d check(s) failed\n", #fn,            \
			       test_cur_failed);                                \
			test_failed_total++;                                    \
		} else if (test_skip_reason[0]) {                               \
			printf("SKIP %s: %s\n", #fn, test_skip_reason);         \
		} else {                                                        \
			printf("PASS %s\n", #fn);                               \
		}                                                               \
		fflush(stdout);                                                 \
	} while (0)

#define TEST_EXIT() return test_failed_total ? 1 : 0

#endif
