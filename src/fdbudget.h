/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fds cgwarden keeps open across ticks, counted in one budget that the
 * walk's dirfds, the file source's fds and the caller's claims (the
 * daemon's PSI triggers) share. Whoever keeps an fd asks first; when the
 * budget runs short a file is opened at each tick instead (slower, never
 * wrong).
 */
#ifndef CGWARDEN_FDBUDGET_H
#define CGWARDEN_FDBUDGET_H

#include <stdbool.h>

struct fd_budget {
	long budget;		/* fds we allow ourselves */
	long kept;		/* held now, by the walk and the sources */
	long claimed;		/* of the budget, by the caller */
	bool ran_short;		/* a keep was refused once (said on stderr) */
	bool quiet;
};

/* The budget for a soft RLIMIT_NOFILE of limit: room left for what else
 * the process opens; with reserve_div, at least limit / reserve_div. */
long fd_budget_default(long limit, unsigned reserve_div);

/* May one more fd be kept? True: the caller keeps it, counted. False: the
 * caller closes it after use (the first refusal says so once). */
bool fd_budget_keep(struct fd_budget *b);

/* Closes a kept fd (*fd >= 0) and gives it back; *fd becomes -1. */
void fd_budget_close(struct fd_budget *b, int *fd);

/* Over budget (after a claim): kept fds must be given back. */
static inline bool fd_budget_over(const struct fd_budget *b)
{
	return b->kept + b->claimed > b->budget;
}

/* Claims may take half the budget at most: 0 or -EMFILE. */
int fd_budget_claim(struct fd_budget *b, long n);
void fd_budget_release(struct fd_budget *b, long n);

#endif
