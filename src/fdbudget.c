// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "fdbudget.h"

long fd_budget_default(long limit, unsigned reserve_div)
{
	/* Leave room for what else the process opens (sockets, BPF objects,
	 * output files, the host's files). */
	long reserve = limit > 4096 ? 512 : limit / 4;

	if (reserve_div && limit / reserve_div > reserve)
		reserve = limit / reserve_div;
	return limit - reserve;
}

bool fd_budget_keep(struct fd_budget *b)
{
	if (b->kept + b->claimed < b->budget) {
		b->kept++;
		return true;
	}
	if (!b->ran_short && !b->quiet)
		fprintf(stderr, "cgwarden: fd budget of %ld reached; files of further "
			"cgroups are opened on each tick (slower). Raise RLIMIT_NOFILE "
			"to keep them all open.\n", b->budget);
	b->ran_short = true;
	return false;
}

void fd_budget_close(struct fd_budget *b, int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
		b->kept--;
	}
}

int fd_budget_claim(struct fd_budget *b, long n)
{
	/* Half the budget at most: the walk keeps the rest for its files. */
	if (n < 0 || b->claimed + n > b->budget / 2)
		return -EMFILE;
	b->claimed += n;
	return 0;
}

void fd_budget_release(struct fd_budget *b, long n)
{
	b->claimed = n < b->claimed ? b->claimed - n : 0;
}
