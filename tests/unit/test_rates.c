/* SPDX-License-Identifier: GPL-2.0-only */
/* Rate math: per-second rates, CPU ratios, counter resets, io device churn. */
#include "test.h"
#include "rates.h"

static struct cg_sample cpu_sample(uint64_t usage, uint64_t periods, uint64_t throttled)
{
	struct cg_sample s = { 0 };

	s.have = CG_HAVE_CPU_STAT;
	s.cpu_have = (1u << CG_CPU_USAGE_USEC) | (1u << CG_CPU_NR_PERIODS) |
		     (1u << CG_CPU_NR_THROTTLED);
	s.cpu[CG_CPU_USAGE_USEC] = usage;
	s.cpu[CG_CPU_NR_PERIODS] = periods;
	s.cpu[CG_CPU_NR_THROTTLED] = throttled;
	return s;
}

static void test_rate_per_sec(void)
{
	double r = -1;

	CHECK(rate_per_sec(100, 600, 500000, &r));
	CHECK_NEAR(r, 1000.0, 1e-9);
	r = -1;
	CHECK(!rate_per_sec(600, 100, 500000, &r));	/* reset */
	CHECK_NEAR(r, -1, 0);				/* untouched */
	CHECK(!rate_per_sec(1, 2, 0, &r));		/* no time passed */
	CHECK(rate_per_sec(UINT64_MAX - 10, UINT64_MAX, 1000000, &r));
	CHECK_NEAR(r, 10.0, 1e-9);
}

static void test_one_cpu_busy_is_ratio_one(void)
{
	struct cg_sample prev = cpu_sample(1000000, 0, 0);
	struct cg_sample cur = cpu_sample(3000000, 0, 0);

	rates_compute(&cur, &prev, 2000000);
	CHECK(cur.rate.have & CG_RATE_CPU_USAGE);
	CHECK_NEAR(cur.rate.cpu_usage_ratio, 1.0, 1e-12);
	/* user_usec was not in cpu_have: no user ratio. */
	CHECK(!(cur.rate.have & CG_RATE_CPU_USER));
}

static void test_counter_reset_gives_no_rate(void)
{
	struct cg_sample prev = cpu_sample(5000000, 10, 5);
	struct cg_sample cur = cpu_sample(100, 12, 6);

	rates_compute(&cur, &prev, 1000000);
	CHECK(!(cur.rate.have & CG_RATE_CPU_USAGE));
	CHECK(cur.rate.have & CG_RATE_CPU_THROTTLED);
	CHECK_NEAR(cur.rate.cpu_throttled_ratio, 0.5, 1e-12);
}

static void test_throttled_ratio(void)
{
	struct cg_sample prev = cpu_sample(0, 100, 10);
	struct cg_sample cur = cpu_sample(200000, 110, 18);
	struct cg_sample idle = cpu_sample(200000, 110, 18);

	rates_compute(&cur, &prev, 1000000);
	CHECK_NEAR(cur.rate.cpu_throttled_ratio, 0.8, 1e-12);
	/* No period elapsed: nothing was throttled, and that is 0, not absent. */
	rates_compute(&idle, &cur, 1000000);
	CHECK(idle.rate.have & CG_RATE_CPU_THROTTLED);
	CHECK_NEAR(idle.rate.cpu_throttled_ratio, 0.0, 0);
}

static void test_no_previous_sample(void)
{
	struct cg_sample cur = cpu_sample(1, 1, 1);

	cur.rate.have = 0xffff;
	rates_compute(&cur, NULL, 0);
	CHECK_U64(cur.rate.have, 0);
}

static void test_io_rates_with_device_churn(void)
{
	struct cg_io_dev p_io[1] = { { .major = 254, .minor = 0, .have = 0xf,
				       .v = { 1000, 2000, 10, 20 } } };
	struct cg_io_dev c_io[2] = {
		{ .major = 254, .minor = 0, .have = 0xf, .v = { 3000, 6000, 12, 30 } },
		/* a device that appeared: counts from 0 */
		{ .major = 8, .minor = 0, .have = 0xf, .v = { 1000, 0, 1, 0 } },
	};
	struct cg_sample prev = { .have = CG_HAVE_IO_STAT, .nr_io = 1, .io = p_io };
	struct cg_sample cur = { .have = CG_HAVE_IO_STAT, .nr_io = 2, .io = c_io };

	rates_compute(&cur, &prev, 2000000);
	CHECK(cur.rate.have & CG_RATE_IO);
	CHECK_NEAR(cur.rate.io_read_bytes_per_sec, 1500.0, 1e-9);
	CHECK_NEAR(cur.rate.io_write_bytes_per_sec, 2000.0, 1e-9);
	CHECK_NEAR(cur.rate.io_read_ios_per_sec, 1.5, 1e-9);
	CHECK_NEAR(cur.rate.io_write_ios_per_sec, 5.0, 1e-9);

	/* A device counter going backwards voids the io rates. */
	c_io[0].v[CG_IO_WBYTES] = 10;
	rates_compute(&cur, &prev, 2000000);
	CHECK(!(cur.rate.have & CG_RATE_IO));
}

static void test_memory_event_rates(void)
{
	struct cg_sample prev = { .have = CG_HAVE_MEM_EVENTS | CG_HAVE_MEM_STAT };
	struct cg_sample cur;

	prev.memevents_have = (1u << CG_ME__COUNT) - 1;
	prev.memstat_have = 1ull << CG_MS_PGFAULT;
	prev.memstat[CG_MS_PGFAULT] = 100;
	cur = prev;
	cur.memevents[CG_ME_OOM_KILL] = 2;
	cur.memstat[CG_MS_PGFAULT] = 300;
	rates_compute(&cur, &prev, 1000000);
	CHECK(cur.rate.have & CG_RATE_MEM_EVENTS);
	CHECK_NEAR(cur.rate.oom_kill_per_sec, 2.0, 1e-12);
	CHECK(cur.rate.have & CG_RATE_PGFAULT);
	CHECK_NEAR(cur.rate.pgfault_per_sec, 200.0, 1e-12);
	CHECK(!(cur.rate.have & CG_RATE_PGMAJFAULT));
}

static void test_hist_quantiles(void)
{
	uint64_t h[CG_RUNQ_BUCKETS] = { 0 };
	double v = -1;

	CHECK(!hist_quantile_usec(h, CG_RUNQ_BUCKETS, 0.5, &v));
	CHECK_NEAR(v, -1, 0);
	/* 100 delays all in bucket 10: [1023, 2047) usec. */
	h[10] = 100;
	CHECK(hist_quantile_usec(h, CG_RUNQ_BUCKETS, 0.5, &v));
	CHECK_NEAR(v, 1023 + 1024 * 0.5, 1e-9);
	CHECK(hist_quantile_usec(h, CG_RUNQ_BUCKETS, 0.99, &v));
	CHECK_NEAR(v, 1023 + 1024 * 0.99, 1e-9);
	/* 90 fast (bucket 0: < 1 us) and 10 slow (bucket 13: 8191-16383 us):
	 * the median is fast, p99 is slow. */
	memset(h, 0, sizeof(h));
	h[0] = 90;
	h[13] = 10;
	CHECK(hist_quantile_usec(h, CG_RUNQ_BUCKETS, 0.5, &v));
	CHECK(v >= 0 && v < 1);
	CHECK(hist_quantile_usec(h, CG_RUNQ_BUCKETS, 0.99, &v));
	CHECK(v >= 8191 && v < 16383);
	/* One delay: every quantile is in its bucket. */
	memset(h, 0, sizeof(h));
	h[3] = 1;
	CHECK(hist_quantile_usec(h, CG_RUNQ_BUCKETS, 0.0, &v));
	CHECK(v >= 7 && v <= 15);
	CHECK(hist_quantile_usec(h, CG_RUNQ_BUCKETS, 1.0, &v));
	CHECK_NEAR(v, 15, 1e-9);
}

/* p50/p99 describe the interval: only delays added since the last tick. */
static void test_runq_rates_use_the_interval(void)
{
	struct cg_sample prev = { 0 }, cur;

	prev.bpf.have = CG_BPF_SCHED | CG_BPF_NET;
	prev.bpf.runq_hist[0] = 1000000;	/* a long quiet past */
	prev.bpf.ctx_switches = 10;
	prev.bpf.rx_bytes = 1000;
	cur = prev;
	cur.bpf.runq_hist[11] += 50;		/* this interval: 2-4 ms each */
	cur.bpf.ctx_switches = 510;
	cur.bpf.rx_bytes = 1001000;
	rates_compute(&cur, &prev, 1000000);
	CHECK(cur.rate.have & CG_RATE_RUNQ);
	CHECK(cur.rate.runq_p50_usec >= 2047 && cur.rate.runq_p50_usec < 4095);
	CHECK_NEAR(cur.rate.ctx_switches_per_sec, 500, 1e-9);
	CHECK(cur.rate.have & CG_RATE_NET);
	CHECK_NEAR(cur.rate.rx_bytes_per_sec, 1000000, 1e-6);
	/* Nothing new ran: no quantile (not 0). */
	prev = cur;
	rates_compute(&cur, &prev, 1000000);
	CHECK(!(cur.rate.have & CG_RATE_RUNQ));
	CHECK(cur.rate.have & CG_RATE_SCHED);
}

int main(void)
{
	RUN(test_rate_per_sec);
	RUN(test_one_cpu_busy_is_ratio_one);
	RUN(test_counter_reset_gives_no_rate);
	RUN(test_throttled_ratio);
	RUN(test_no_previous_sample);
	RUN(test_io_rates_with_device_churn);
	RUN(test_memory_event_rates);
	RUN(test_hist_quantiles);
	RUN(test_runq_rates_use_the_interval);
	TEST_EXIT();
}
