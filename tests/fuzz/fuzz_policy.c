/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for the policy loader (src/json_policy.c). Each input is
 * parsed as a policy file; the contract checked: it is either accepted (and
 * then a policy the engine can evaluate over a small tree without trouble)
 * or refused with at least one message naming the file. The same input is
 * then read as a state file: whatever it says, what loads is only sound
 * entries, and the restores a policy of no rules makes from them undo only
 * what a step changes (never a kill, hook or log) on a named cgroup. Build
 * and run: see tests/fuzz/README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "json_policy.h"
#include "statefile.h"
#include "policy.h"

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a state file of boot "b", through a memfd. */
static void state_file(const uint8_t *data, size_t size, struct cg_snapshot *s)
{
	struct statefile_read r = { .boot_id = "b" };
	struct pol_decisions ds = { 0 };
	struct policy_state st;
	struct policy none = { .file = "none" };
	char path[64];
	int fd = memfd_create("fuzz-state", MFD_CLOEXEC), err;

	if (fd < 0)
		return;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	policy_state_init(&st);
	err = statefile_read(path, &st, &r);
	ASSERT(err == 0 || err == -EINVAL || err == -ENOMEM);
	ASSERT(err != -EINVAL || r.why[0]);
	for (size_t i = 0; i < st.nr_targets; i++) {
		const struct pol_target *t = &st.targets[i];

		ASSERT(t->path && t->path[0] && t->path[0] != '/' && t->cgroup_id > 1);
		ASSERT(t->step <= POL_MAX_STEPS);
		for (int k = 0; k < POL_MAX_STEPS; k++)
			ASSERT(!t->saved[k].valid || t->saved[k].action <= POL_FREEZE);
	}
	policy_state_rebind(&st, &none);
	ASSERT(policy_evaluate(&none, NULL, s, 1000000, &st, &ds) >= 0);
	for (size_t i = 0; i < ds.nr; i++) {
		const struct pol_decision *d = &ds.d[i];

		ASSERT(d->restore && d->path && d->path[0]);
		ASSERT(d->action == POL_MEMORY_HIGH || d->action == POL_MEMORY_MAX ||
		       d->action == POL_CPU_MAX || d->action == POL_CPU_WEIGHT ||
		       d->action == POL_THAW);
	}
	policy_decisions_free(&ds);
	policy_state_free(&st);
	pol_errors_free(&r.notes);
	close(fd);
}

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
	int err;

	state_file(data, size, &s);
	err = json_policy_parse("fuzz.json", (const char *)data, size, &p, &e);
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
