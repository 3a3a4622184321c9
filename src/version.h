/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What this binary is and what it was built from: the version, the git
 * revision, and the versions of the libraries it was compiled against.
 * `--version`, /metrics' cgwarden_build_info, the .deb and the image label
 * all read these, so they cannot disagree.
 */
#ifndef CGWARDEN_VERSION_H
#define CGWARDEN_VERSION_H

#include <stdio.h>

struct build_lib {
	const char *name;	/* "libbpf", "json-c", ... */
	const char *label;	/* its Prometheus label name ("json_c") */
	const char *built;	/* the headers' version at compile time */
	const char *running;	/* what the loaded library says, or NULL if it cannot */
};

/* "0.1.0" (the Makefile's VERSION). */
const char *version_string(void);
/* The git revision it was built from ("4b4680d5e1a2", "+dirty" when the
 * tree had uncommitted changes), or "unknown" (a tarball without .git). */
const char *version_revision(void);
/* The libraries, in a fixed order; *n gets their number. */
const struct build_lib *version_libs(size_t *n);
/* The whole `cgwarden --version` text. */
void version_print(FILE *f);

#endif
