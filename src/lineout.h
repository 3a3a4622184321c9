/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * NDJSON output that never blocks the loop: stdout, a file (reopened on
 * request, for log rotation) or a unix stream socket, written non-blocking.
 * A line goes out whole or not at all: when the reader's buffer (a pipe, a
 * socket) is full, the line is dropped and counted; a line the kernel took
 * only part of is finished later (when the fd is writable again, or before
 * the next line) and any line arriving meanwhile is dropped. So a slow
 * reader costs lines, never the collector's time, and never sees half a
 * line. A file or socket that fails costs lines, not the command.
 * `cgwarden stream` and `cgwarden daemon` write through it.
 */
#ifndef CGWARDEN_LINEOUT_H
#define CGWARDEN_LINEOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "loop.h"

struct lineout;

/* dest: NULL for stdout (made non-blocking until lineout_close), "unix:PATH"
 * to connect to a unix stream socket (non-blocking: a reader whose backlog
 * is full leaves it unconnected for now, not an error), else a file
 * appended to (created 0666 & ~umask). loop (may be NULL) is where the fd is
 * watched to finish a partly written line. 0 or -errno (*out untouched). */
int lineout_open(const char *dest, struct loop *loop, struct lineout **out);

/* Writes buf, one or more '\n'-terminated lines, each whole or dropped.
 * stdout: returns 0, or the first hard error (-EPIPE: the reader went away)
 * from this call or an earlier background flush; after one, nothing more is
 * written. A file or unix: socket: a hard error closes it and is returned
 * once, by the call that met it; until it is open again, lines are dropped
 * and counted and 0 is returned. A unix: destination is connected to again
 * by later writes (at most every 200 ms), a file by lineout_reopen. */
int lineout_write(struct lineout *o, const char *buf, size_t len);

/* Closes and opens dest again (log rotation moved the file away, the
 * socket's reader restarted). A partly written line is finished on the old
 * fd if it can be at once, else counted as dropped. No-op for stdout.
 * 0 (also when a unix: reader cannot accept yet) or -errno: then nothing is
 * open and lines are dropped and counted until a later reopen (or, for
 * unix:, a write) connects. */
int lineout_reopen(struct lineout *o);

/* Gives a line in flight (one the reader took only part of) the chance to
 * finish now, without blocking. True while part of it is still waiting for
 * the reader: a caller about to render new lines should not, as they would
 * only be dropped (and rendering a large tick takes the time the reader
 * needs to take the rest). A hard error is kept for the next
 * lineout_write, which returns it; then this says false. */
bool lineout_busy(struct lineout *o);

/* Lines dropped so far. */
uint64_t lineout_dropped(const struct lineout *o);

/* Waits up to drain_ms for the reader to take a pending partial line, then
 * closes (stdout gets its flags back). NULL is fine. */
void lineout_close(struct lineout *o, int drain_ms);

#endif
