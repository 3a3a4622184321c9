/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bpflog.h"

static char first_warn[BPFLOG_LEN];

int bpflog_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *nl;

	if (getenv("CGWARDEN_BPF_DEBUG")) {
		va_list copy;

		va_copy(copy, ap);
		vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	if (level != LIBBPF_WARN || first_warn[0])
		return 0;
	vsnprintf(first_warn, sizeof(first_warn), fmt, ap);
	nl = strchr(first_warn, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

void bpflog_reset(void)
{
	first_warn[0] = '\0';
}

const char *bpflog_first(void)
{
	return first_warn;
}
