/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for the policy loader (src/json_policy.c). Each input is
 * parsed as a policy file; the contract checked: it is either accepted (and
 * then a policy the engine can evaluate over a small tree without trouble)
 * or refused with at least one message naming the file. Build and run: see
 * tests/fuzz/README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_policy.h"
#include "policy.h"

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_sample x[3] = {
		{ .id = 1, .parent = -1, .path = "" },
		{ .id = 2, .parent = 0, .path = "a", .have = CG_HAVE_MEM_CURRENT | CG_HAVE_PSI_CPU,
		  .mem_current = 1u << 30 },
		{ .id = 3, .parent = 1, .path = "a/b", .have = CG_HAVE_PROCS, .procs = 2 },
	};
	struct cg_snapshot s = { .nr_samples = 3, .samples = x };
	struct pol_errors e = { 0 };
	struct policy *p = NULL;
	struct policy_state st;
	struct pol_decisions ds = { 0 };
	int err = json_policy_parse("fuzz.json", (const char *)data, size, &p, &e);

	if (err) {
		ASSERT(!p);
		ASSERT(err == -EINVAL || err == -ENOMEM);
		ASSERT(err == -ENOMEM || e.nr > 0);
		for (size_t i = 0; i < e.nr; i++)
			ASSERT(strncmp(e.msg[i], "fuzz.json", 9) == 0);
		pol_errors_free(&e);
		return 0;
	}
	ASSERT(p && e.nr == 0);
	policy_state_init(&st);
	x[1].psi[CG_PSI_CPU].have_some = true;
	x[1].psi[CG_PSI_CPU].some.avg10 = 5000;
	for (uint64_t t = 0; t < 5; t++) {
		policy_note_trigger(&st, 2, CG_PSI_CPU, false, t * 700000);
		ASSERT(policy_evaluate(p, NULL, &s, t * 700000, &st, &ds) >= 0);
		for (size_t i = 0; i < ds.nr; i++)
			ASSERT(ds.d[i].path && ds.d[i].rule[0]);
	}
	ASSERT(policy_release(p, &st, 10000000, false, &ds) >= 0);
	policy_decisions_free(&ds);
	policy_state_free(&st);
	policy_free(p);
	return 0;
}
