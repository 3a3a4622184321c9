#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Validate cgwarden JSON output against schema/cgwarden.schema.json.

    schema_validate.py [--schema FILE] [--ndjson [--ticks N]] FILE...

Each FILE is one JSON document (`cgwarden snapshot`), or with --ndjson one
document per line (`cgwarden stream`). Stricter than the JSON RFC where
cgwarden promises more: the bytes must be UTF-8, NaN/Infinity and duplicate
keys are errors, and in --ndjson mode every line must end with '\\n'.
Prints the first error of each invalid file, with its file and line, one
line per file; exit 0 all valid, 1 any invalid, 2 usage or missing jsonschema.
--ticks N: every line is still read and checked as JSON as above, and every
line but the ticks against the schema, but only N ticks spread over the file
(the first and the last among them): a file of hundreds of large ticks of
the same tree takes jsonschema most of a minute and tells no more.
"""
import argparse
import json
import os
import sys

DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                              "schema", "cgwarden.schema.json")


class Invalid(Exception):
    pass


def _no_dup_keys(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise Invalid("duplicate key %r" % k)
        seen[k] = v
    return seen


def _no_constant(name):
    raise Invalid("%s is not JSON" % name)


def _loads(text):
    return json.loads(text, object_pairs_hook=_no_dup_keys, parse_constant=_no_constant)


def _where(path):
    out = "$"
    for p in path:
        out += "[%d]" % p if isinstance(p, int) else "." + str(p)
    return out


class Checker:
    def __init__(self, schema_path):
        import jsonschema  # noqa: imported here so --help works without it

        with open(schema_path, encoding="utf-8") as f:
            self.schema = json.load(f)
        cls = jsonschema.Draft202012Validator
        cls.check_schema(self.schema)
        self.validator = cls(self.schema)
        # oneOf reports only "not valid under any"; the branch a document's
        # "type" selects gives the error that names the bad field.
        self.branch = {}
        for name, ref in (("snapshot", "body"), ("tick", "body"), ("event", "event")):
            sub = {k: v for k, v in self.schema.items() if k != "oneOf"}
            sub["$ref"] = "#/$defs/" + ref
            self.branch[name] = cls(sub)

    def error(self, doc):
        """Message for the first schema error in doc, or None."""
        if self.validator.is_valid(doc):
            return None
        from jsonschema.exceptions import best_match

        v = self.branch.get(doc.get("type")) if isinstance(doc, dict) else None
        e = best_match(v.iter_errors(doc)) if v else None
        if e is None:
            e = best_match(self.validator.iter_errors(doc))
        return "%s: %s" % (_where(e.absolute_path), e.message)


def check_file(checker, path, ndjson, ticks=0):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        return "%s:%d: invalid UTF-8 at byte %d" % (path, line, e.start)
    if not ndjson:
        try:
            doc = _loads(text)
        except (ValueError, Invalid) as e:
            return "%s: not JSON: %s" % (path, e)
        msg = checker.error(doc)
        return "%s: %s" % (path, msg) if msg else None
    if text and not text.endswith("\n"):
        return "%s:%d: last line has no newline" % (path, text.count("\n") + 1)
    lines = text.split("\n")[:-1]
    if not lines:
        return "%s: no lines" % path
    docs = []
    for n, line in enumerate(lines, 1):
        try:
            docs.append(_loads(line))
        except (ValueError, Invalid) as e:
            return "%s:%d: not JSON: %s" % (path, n, e)
    is_tick = [isinstance(d, dict) and d.get("type") == "tick" for d in docs]
    tick_lines = [i for i, t in enumerate(is_tick) if t]
    keep = set(range(len(docs)))
    if ticks > 0 and len(tick_lines) > ticks:
        step = (len(tick_lines) - 1) / max(ticks - 1, 1)
        chosen = {tick_lines[round(k * step)] for k in range(ticks)}
        keep = {i for i in keep if not is_tick[i] or i in chosen}
    for i in sorted(keep):
        msg = checker.error(docs[i])
        if msg:
            return "%s:%d: %s" % (path, i + 1, msg)
    return None


def main():
    ap = argparse.ArgumentParser(description="Validate cgwarden JSON output.")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--ndjson", action="store_true", help="one document per line")
    ap.add_argument("--ticks", type=int, default=0,
                    help="with --ndjson: the schema on only this many ticks, spread out")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    try:
        checker = Checker(args.schema)
    except ImportError:
        print("schema_validate: python3 jsonschema is not installed", file=sys.stderr)
        return 2
    status = 0
    for path in args.files:
        try:
            msg = check_file(checker, path, args.ndjson, args.ticks)
        except OSError as e:
            msg = "%s: %s" % (path, e.strerror)
        if msg:
            print(msg.replace("\n", " "), flush=True)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
