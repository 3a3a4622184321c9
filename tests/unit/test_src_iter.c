// SPDX-License-Identifier: GPL-2.0-only
/*
 * The iterator source's conversions, record -> sample: the same numbers the
 * kernel prints in the files (the kernel's own formulas, checked on values
 * worked out by hand), and only for the files the cgroup has and a
 * consumer wants. The real walk against the real files is
 * test_iter_equal; the BPF side is test_iterbpf.
 */
#include "test.h"
#include "cgfile.h"
#include "source.h"
#include "src_iter.h"

#define PAGE 4096ull
#define PAGE_COUNTER_MAX (INT64_MAX / PAGE)

static void test_cputime_adjust_follows_the_kernel(void)
{
	struct iter_cputime prev = { 0, 0 };
	uint64_t ut, st;

	/* 3 user ticks, 1 system tick, 1000 ns run: split 750/250. */
	iter_cputime_adjust(1000, 3, 1, &prev, &ut, &st);
	CHECK_U64(ut, 750);
	CHECK_U64(st, 250);
	/* The ratio turns to 1:1: system may grow, user may not go back. */
	iter_cputime_adjust(1100, 3, 3, &prev, &ut, &st);
	CHECK_U64(ut, 750);
	CHECK_U64(st, 350);
	/* No ticks of system time: all user, but system never goes back. */
	iter_cputime_adjust(2000, 5, 0, &prev, &ut, &st);
	CHECK_U64(st, 350);
	CHECK_U64(ut, 1650);
	/* A runtime not past what was given out: the last split again. */
	iter_cputime_adjust(1500, 9, 9, &prev, &ut, &st);
	CHECK_U64(ut + st, 2000);
	/* Large values do not overflow (the kernel multiplies in 128 bits). */
	prev = (struct iter_cputime){ 0, 0 };
	iter_cputime_adjust(UINT64_MAX / 2, UINT64_MAX / 8, UINT64_MAX / 8, &prev, &ut, &st);
	CHECK_U64(st, UINT64_MAX / 4);
}

static void test_psi_average_prints_like_the_file(void)
{
	/* avg = percent << 11 (FSHIFT); the file prints LOAD_INT.LOAD_FRAC. */
	CHECK_INT(iter_psi_avg(0), 0);
	CHECK_INT(iter_psi_avg(39ull << 11), 3900);
	CHECK_INT(iter_psi_avg((39ull << 11) + 1597), 3977);	/* 1597*100>>11 = 77 */
	CHECK_INT(iter_psi_avg((100ull << 11)), 10000);
	CHECK_INT(iter_psi_avg(2047), 99);
}

static struct cgw_iter_rec full_record(void)
{
	struct cgw_iter_rec r = {
		.id = 7, .parent_id = 1, .level = 1,
		.valid = CGW_IV_CGROUP | CGW_IV_RSTAT | CGW_IV_CFS | CGW_IV_MEM | CGW_IV_PIDS |
			 CGW_IV_PSI,
		.flags = CGW_IF_POPULATED,
		.cpu_sum_ns = 5000000, .cpu_utime_ns = 4, .cpu_stime_ns = 1,
		.cfs_quota_ns = ~0ull, .cfs_period_ns = 100000000, .shares = 1024ull << 10,
		.nr_periods = 11, .nr_throttled = 3, .throttled_ns = 7000999, .nr_bursts = 1,
		.burst_ns = 2000,
		.mem_usage = 10, .mem_watermark = 20, .mem_max = PAGE_COUNTER_MAX,
		.mem_high = PAGE_COUNTER_MAX, .mem_low = 0, .mem_min = 5, .swap_usage = 1,
		.swap_max = PAGE_COUNTER_MAX,
		.mem_events = { 1, 2, 3, 4, 5, 6 },
		.pids_current = 9, .pids_limit = 4194305,
	};

	r.psi_total[4] = 123456789;	/* cpu some, ns */
	r.psi_avg[4][0] = 2ull << 11;
	r.psi_total[3] = 5000;		/* memory full */
	return r;
}

/* Another reader of cpu.stat moved the kernel's split ahead of ours, but
 * with a smaller share of system time: what we print still never goes
 * back in either part (a rate would vanish for a tick), and the parts
 * still add up to the runtime. */
static void test_cputime_never_goes_back_across_readers(void)
{
	struct cgw_iter_rec r = full_record();
	struct iter_cputime prev = { 0, 0 };
	struct cg_sample s = { 0 };

	r.cpu_sum_ns = 1000000, r.cpu_utime_ns = 9, r.cpu_stime_ns = 1;
	iter_rec_fill(&r, CGF_BIT(CGF_CPU_STAT), CGF_ALL, PAGE, &prev, &s);
	CHECK_U64(s.cpu[CG_CPU_SYSTEM_USEC], 100);
	CHECK_U64(s.cpu[CG_CPU_USER_USEC], 900);
	/* The kernel's prev: 1050 us, of which system 90 (< our 100). */
	r.prev_utime_ns = 960000, r.prev_stime_ns = 90000;
	r.cpu_sum_ns = 1100000, r.cpu_utime_ns = 19, r.cpu_stime_ns = 1;
	s = (struct cg_sample){ 0 };
	iter_rec_fill(&r, CGF_BIT(CGF_CPU_STAT), CGF_ALL, PAGE, &prev, &s);
	CHECK(s.cpu[CG_CPU_SYSTEM_USEC] >= 100);
	CHECK(s.cpu[CG_CPU_USER_USEC] >= 900);
	CHECK_U64(s.cpu[CG_CPU_USER_USEC] + s.cpu[CG_CPU_SYSTEM_USEC], 1100);
	/* The same the other way: the kernel gave user less than we did. */
	r.prev_utime_ns = 700000, r.prev_stime_ns = 450000;
	r.cpu_sum_ns = 1200000;
	s = (struct cg_sample){ 0 };
	iter_rec_fill(&r, CGF_BIT(CGF_CPU_STAT), CGF_ALL, PAGE, &prev, &s);
	CHECK(s.cpu[CG_CPU_USER_USEC] >= 900);
	CHECK(s.cpu[CG_CPU_SYSTEM_USEC] >= 100);
	CHECK_U64(s.cpu[CG_CPU_USER_USEC] + s.cpu[CG_CPU_SYSTEM_USEC], 1200);
}

static void test_record_fills_what_the_files_say(void)
{
	struct cgw_iter_rec r = full_record();
	struct iter_cputime prev = { 0, 0 };
	struct cg_sample s = { 0 };
	uint32_t got = iter_rec_fill(&r, CGF_ALL, CGF_ALL, PAGE, &prev, &s);

	/* Everything but the slow tier, which the walk cannot give. */
	CHECK_U64(got, CGF_ALL & ~CGF_SLOW);
	CHECK_U64(s.have, got);
	CHECK_U64(s.iter_have, got);
	CHECK_U64(s.cpu[CG_CPU_USAGE_USEC], 5000);
	CHECK_U64(s.cpu[CG_CPU_USER_USEC], 4000);
	CHECK_U64(s.cpu[CG_CPU_SYSTEM_USEC], 1000);
	CHECK_U64(s.cpu[CG_CPU_THROTTLED_USEC], 7000);
	CHECK_U64(s.cpu_have, (1u << CG_CPU__COUNT) - 1);
	CHECK_U64(s.cpu_max_quota_usec, CG_UNLIMITED);
	CHECK_U64(s.cpu_max_period_usec, 100000);
	CHECK_U64(s.cpu_weight, 100);
	CHECK_U64(s.mem_current, 10 * PAGE);
	CHECK_U64(s.mem_peak, 20 * PAGE);
	CHECK_U64(s.mem_max, CG_UNLIMITED);
	CHECK_U64(s.mem_low, 0);
	CHECK_U64(s.mem_min, 5 * PAGE);
	CHECK_U64(s.swap_max, CG_UNLIMITED);
	CHECK_U64(s.memevents[CG_ME_OOM_GROUP_KILL], 6);
	CHECK_U64(s.pids_current, 9);
	CHECK_U64(s.pids_max, CG_UNLIMITED);
	CHECK_U64(s.psi[CG_PSI_CPU].some.total_usec, 123456);
	CHECK_INT(s.psi[CG_PSI_CPU].some.avg10, 200);
	CHECK_U64(s.psi[CG_PSI_MEMORY].full.total_usec, 5);
	CHECK(s.psi[CG_PSI_IO].have_some && s.psi[CG_PSI_IO].have_full);
	CHECK(s.populated && !s.frozen);
}

static void test_record_fills_only_present_and_wanted(void)
{
	struct cgw_iter_rec r = full_record();
	struct iter_cputime prev = { 0, 0 };
	struct cg_sample s = { 0 };
	/* A cgroup without the cpu controller: cpu.stat has three keys. */
	uint32_t present = CGF_BIT(CGF_CPU_STAT) | CGF_BIT(CGF_EVENTS) | CGF_BIT(CGF_CPU_PRESSURE);

	CHECK_U64(iter_rec_fill(&r, CGF_BIT(CGF_CPU_STAT), present, PAGE, &prev, &s),
		  CGF_BIT(CGF_CPU_STAT));
	CHECK_U64(s.cpu_have, 7);
	CHECK_U64(s.have, CG_HAVE_CPU_STAT);
	/* The cpu controller on, but no task group in the record: cpu.stat
	 * is left to the file, which has the throttling keys. */
	r.valid &= ~(uint32_t)CGW_IV_CFS;
	s = (struct cg_sample){ 0 };
	CHECK_U64(iter_rec_fill(&r, CGF_ALL, CGF_ALL, PAGE, &prev, &s) &
		  (CGF_BIT(CGF_CPU_STAT) | CGF_BIT(CGF_CPU_MAX) | CGF_BIT(CGF_CPU_WEIGHT)), 0);
	/* Pressure switched off for the cgroup: nothing from PSI. */
	r = full_record();
	r.flags |= CGW_IF_PSI_OFF;
	s = (struct cg_sample){ 0 };
	CHECK_U64(iter_rec_fill(&r, CGF_ALL, CGF_ALL, PAGE, &prev, &s) & CGF_BIT(CGF_CPU_PRESSURE),
		  0);
	/* The real root's record has only its place in the tree. */
	r.valid = CGW_IV_CGROUP;
	s = (struct cg_sample){ 0 };
	CHECK_U64(iter_rec_fill(&r, CGF_ALL, CGF_ALL, PAGE, &prev, &s), CGF_BIT(CGF_EVENTS));
}

static void test_cpu_weight_rounds_like_the_kernel(void)
{
	struct cgw_iter_rec r = full_record();
	struct iter_cputime prev = { 0, 0 };
	/* weight -> shares: sched_weight_from_cgroup() = round(w * 1024 / 100),
	 * scaled up by 10 bits; read back through the kernel's inverse. */
	static const uint64_t weights[] = { 1, 2, 50, 99, 100, 101, 333, 5000, 10000 };

	for (size_t i = 0; i < sizeof(weights) / sizeof(weights[0]); i++) {
		struct cg_sample s = { 0 };

		r.shares = ((weights[i] * 1024 + 50) / 100) << 10;
		iter_rec_fill(&r, CGF_BIT(CGF_CPU_WEIGHT), CGF_ALL, PAGE, &prev, &s);
		CHECK_U64(s.cpu_weight, weights[i]);
	}
}

static void test_tree_hash_ignores_order(void)
{
	uint64_t a = cg_tree_hash_add(cg_tree_hash_add(cg_tree_hash_add(0, 10), 20), 30);
	uint64_t b = cg_tree_hash_add(cg_tree_hash_add(cg_tree_hash_add(0, 30), 10), 20);
	uint64_t c = cg_tree_hash_add(cg_tree_hash_add(cg_tree_hash_add(0, 30), 10), 21);

	CHECK_U64(a, b);
	CHECK(a != c);
}

int main(void)
{
	RUN(test_cputime_adjust_follows_the_kernel);
	RUN(test_psi_average_prints_like_the_file);
	RUN(test_cputime_never_goes_back_across_readers);
	RUN(test_record_fills_what_the_files_say);
	RUN(test_record_fills_only_present_and_wanted);
	RUN(test_cpu_weight_rounds_like_the_kernel);
	RUN(test_tree_hash_ignores_order);
	TEST_EXIT();
}
