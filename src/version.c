// SPDX-License-Identifier: GPL-2.0-only
/* The build's provenance: see version.h. */
#include <string.h>
#include <bpf/libbpf.h>
#include <json-c/json_c_version.h>
#include <microhttpd.h>
#include <zlib.h>
#include <zstd.h>
#include "crt.h"
#include "version.h"

#ifndef CGWARDEN_VERSION
#define CGWARDEN_VERSION "0.1.0"
#endif
/* The Makefile passes the revision to this file alone, so a new commit
 * recompiles one object, not the program. */
#ifndef CGWARDEN_REVISION
#define CGWARDEN_REVISION "unknown"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

const char *version_string(void)
{
	return CGWARDEN_VERSION;
}

const char *version_revision(void)
{
	return CGWARDEN_REVISION[0] ? CGWARDEN_REVISION : "unknown";
}

/* "v1.1" -> "1.1": the same spelling as the headers', so built and
 * running compare as strings. */
static const char *after_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!s)
		return NULL;
	return strncmp(s, prefix, n) == 0 ? s + n : s;
}

const struct build_lib *version_libs(size_t *n)
{
	/* MHD_VERSION is 0xMMmmpp00 in hex digits that read as decimal. */
	static char mhd_built[16];
	static struct build_lib libs[] = {
		{ "libbpf", "libbpf", STR(LIBBPF_MAJOR_VERSION) "." STR(LIBBPF_MINOR_VERSION), NULL },
		{ "json-c", "json_c", JSON_C_VERSION, NULL },
		{ "ncurses", "ncurses", NULL, NULL },	/* from ui/: curses stays there */
		{ "libmicrohttpd", "libmicrohttpd", mhd_built, NULL },
		{ "zlib", "zlib", ZLIB_VERSION, NULL },
		{ "zstd", "zstd", ZSTD_VERSION_STRING, NULL },
	};

	if (!mhd_built[0]) {
		snprintf(mhd_built, sizeof(mhd_built), "%x.%x.%x",
			 (unsigned)(MHD_VERSION >> 24) & 0xff, (unsigned)(MHD_VERSION >> 16) & 0xff,
			 (unsigned)(MHD_VERSION >> 8) & 0xff);
		libs[0].running = after_prefix(libbpf_version_string(), "v");
		libs[1].running = json_c_version();
		libs[2].built = crt_curses_built();
		libs[2].running = crt_curses_running();
		libs[3].running = MHD_get_version();
		libs[4].running = zlibVersion();
		libs[5].running = ZSTD_versionString();
	}
	*n = sizeof(libs) / sizeof(libs[0]);
	return libs;
}

void version_print(FILE *f)
{
	size_t n;
	const struct build_lib *libs = version_libs(&n);

	fprintf(f, "cgwarden %s\nrevision %s\nbuilt with", version_string(), version_revision());
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %s %s", i ? "," : "", libs[i].name, libs[i].built);
	fputc('\n', f);
	/* A library upgraded under the binary is worth a line: a bug report
	 * needs what runs, not only what was compiled. */
	for (size_t i = 0; i < n; i++)
		if (libs[i].running && strcmp(libs[i].running, libs[i].built) != 0)
			fprintf(f, "running with %s %s\n", libs[i].name, libs[i].running);
}
