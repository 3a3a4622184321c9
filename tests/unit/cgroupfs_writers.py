#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""src/actuator is the only writer of cgroupfs (DESIGN.md, module rules).

Every call in src/ and ui/ that opens something for writing (open,
openat, cgfs_openat with O_WRONLY, O_RDWR, O_APPEND, O_CREAT or O_TRUNC;
fopen/fdopen with a "w", "a" or "+" mode) must be in src/actuator.c or be
one of the writers listed below, each with what it writes: none of them
is under a cgroup2 mount. A new one fails here, naming the file and line,
until it is either moved into the actuator or listed with its reason.

Prints PASS or FAIL lines for tests/run.
"""
import glob
import re
import sys

# file -> number of write-capable opens there, and what they write.
ALLOWED = {
    "src/actuator.c": (None, "cgroupfs itself: the one writer"),
    "src/cmd_daemon.c": (2, "the daemon's state file (tmp + rename) and its action log"),
    "src/cmd_set.c": (1, "set's --audit-log"),
    "src/cmd_top.c": (1, "the dashboard's --audit-log"),
    "src/enforcer.c": (1, "/dev/null as a hook's standard input and output"),
    "src/lineout.c": (1, "stream --output, a file or FIFO the user names"),
    "src/store.c": (1, "the flight recorder's segments, indexes and lock, only under its DIR"),
}

CALL = re.compile(r"\b(open|openat|openat2|creat|cgfs_openat|fopen|fdopen)\s*\(")
WRITE_FLAGS = re.compile(r"\bO_(WRONLY|RDWR|APPEND|CREAT|TRUNC)\b")
WRITE_MODE = re.compile(r'"[rwa]?[^"]*[wa+][^"]*"')


def call_args(text, start):
    """The text of a call's arguments, from its opening parenthesis."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    return text[start + 1:]


def writers(path):
    text = open(path, encoding="utf-8").read()
    # Comments say "open ... for writing" in prose; only code counts.
    code = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    code = re.sub(r"//[^\n]*", "", code)
    found = []
    for m in CALL.finditer(code):
        args = call_args(code, m.end() - 1)
        fn = m.group(1)
        if fn == "creat":
            hit = True
        elif fn in ("fopen", "fdopen"):
            mode = args.rsplit(",", 1)[-1]
            hit = WRITE_MODE.search(mode) is not None
        else:
            hit = WRITE_FLAGS.search(args) is not None
        if hit:
            found.append(code.count("\n", 0, m.start()) + 1)
    return found


def main():
    bad = []
    for path in sorted(glob.glob("src/*.c") + glob.glob("ui/*.c")):
        lines = writers(path)
        if not lines:
            continue
        want, _why = ALLOWED.get(path, (0, ""))
        if want is None:
            continue
        if path not in ALLOWED or len(lines) != want:
            bad.append("%s: %d write-capable open(s) at line %s, %s" % (
                path, len(lines), ", ".join(map(str, lines)),
                "listed with %d" % want if path in ALLOWED else "not the actuator, not listed"))
    for path, (want, _why) in ALLOWED.items():
        if want and not glob.glob(path):
            bad.append("%s: listed but gone" % path)
    if bad:
        for b in bad:
            print("  " + b)
        print("FAIL cgroupfs_writers: only src/actuator may write cgroupfs")
        return 1
    print("PASS cgroupfs_writers: write-capable opens only in src/actuator and %d listed files"
          % (len(ALLOWED) - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
