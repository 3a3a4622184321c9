#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""No cycles among the modules of src/ and ui/ (issue 13).

A module is a stem in its directory: src/json.c and src/json.h are one,
ui/ui.h (no .c) is one of its own. Two graphs are checked:

- includes: A -> B when a file of A has #include "B.h" (looked up as the
  compiler does with -Isrc -Iui: the file's own directory first);
- links (when the objects are built, BUILD or argv[1]): A -> B when A.o
  uses a symbol B.o defines. A header declaring what another file defines
  (ui.h once declared helpers of screen.c, used by the drawing files that
  screen.c calls) is a cycle that only this graph sees.

Prints PASS or FAIL lines for tests/run; a cycle is shown as a path.
"""
import glob
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def module(path):
    return os.path.splitext(os.path.normpath(path))[0]


def include_graph():
    g = {}
    for f in sorted(glob.glob('src/*.[ch]') + glob.glob('ui/*.[ch]')):
        a = module(f)
        g.setdefault(a, set())
        with open(f, encoding='utf-8', errors='replace') as fh:
            text = fh.read()
        for name in INCLUDE.findall(text):
            for d in (os.path.dirname(f), 'src', 'ui'):
                p = os.path.join(d, name)
                if os.path.exists(p):
                    if module(p) != a:
                        g[a].add(module(p))
                    break
    return g


def link_graph(build):
    objs = sorted(glob.glob(os.path.join(build, 'src', '*.o')) +
                  glob.glob(os.path.join(build, 'ui', '*.o')))
    if not objs:
        return None
    defs, uses = {}, {}
    for o in objs:
        a = module(os.path.relpath(o, build))
        out = subprocess.run(['nm', o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 2 and p[0] == 'U':
                uses.setdefault(a, set()).add(p[1])
            elif len(p) == 3 and p[1] in 'TDBRVW':
                defs[p[2]] = a
    return {a: {defs[s] for s in u if s in defs and defs[s] != a} for a, u in uses.items()}


def cycles(g):
    """Each strongly connected component of more than one module, as a cycle
    through its first module (Tarjan, iterative)."""
    index, low, stack, on, found, n = {}, {}, [], set(), [], 0
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g.get(root, ()))))]
        index[root] = low[root] = n
        n += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = n
                    n += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                scc = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    scc.append(w)
                    if w == v:
                        break
                if len(scc) > 1:
                    found.append(path_in(g, set(scc)))
    return found


def path_in(g, scc):
    """A shortest cycle through the smallest module of scc."""
    start = min(scc)
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(g.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in scc and w not in prev:
                prev[w] = v
                queue.append(w)
    return sorted(scc)


def report(name, g):
    found = cycles(g)
    if not found:
        print(f'PASS {name}: no cycle among {len(g)} modules')
        return 0
    for c in found:
        print(f'FAIL {name}: ' + ' -> '.join(c))
    return 1


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    build = sys.argv[1] if len(sys.argv) > 1 else os.environ.get('BUILD', 'build')
    failed = report('include_cycles', include_graph())
    g = link_graph(build)
    if g is None:
        print(f'SKIP link_cycles: no objects in {build}/src (run make)')
    else:
        failed |= report('link_cycles', g)
    return failed


if __name__ == '__main__':
    sys.exit(main())
