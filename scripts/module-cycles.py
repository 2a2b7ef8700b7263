#!/usr/bin/env python3
"""Fails when modules of a crate import each other in a cycle.

A module is a file under `src/` (`a/b.rs` and `a/b/mod.rs` are `a::b`). An edge `a -> b` is a
`crate::b…` or `super::…` path in `a`'s code (comments and `#[cfg(test)] mod tests` blocks
excluded; re-exports declared in `lib.rs` with `pub use x::{y, z};` are followed). Edges between
a module and its own ancestors or descendants are not counted: a parent declares its children.

Usage: scripts/module-cycles.py <crate-dir>...   (exit status 1 when any crate has a cycle)
"""
import os
import re
import sys
from collections import defaultdict


def modules(src):
    found = {}
    for d, _, files in os.walk(src):
        for f in files:
            if f.endswith(".rs"):
                parts = os.path.relpath(os.path.join(d, f), src)[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                found["::".join(parts)] = os.path.join(d, f)
    return found


def code_of(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)


def edges_of(src):
    mods = modules(src)
    aliases = {}
    lib = os.path.join(src, "lib.rs")
    if os.path.exists(lib):
        for m in re.finditer(r"pub use (\w+)::\{([^}]*)\};", code_of(lib)):
            for name in (n.strip() for n in m.group(2).split(",")):
                if name and name.islower():
                    aliases[name] = f"{m.group(1)}::{name}"

    def resolve(path):
        parts = path.split("::")
        if parts[0] in aliases:
            parts = aliases[parts[0]].split("::") + parts[1:]
        for i in range(len(parts), 0, -1):
            if "::".join(parts[:i]) in mods:
                return "::".join(parts[:i])
        return None

    edges = defaultdict(set)
    for name, path in mods.items():
        here = name.split("::") if name else []
        for m in re.finditer(r"\b(crate|super)((?:::\w+)+)", code_of(path)):
            rest = m.group(2)[2:]
            full = rest if m.group(1) == "crate" else "::".join(here[:-1] + [rest])
            target = resolve(full)
            related = target is None or target == name or name.startswith(target + "::") \
                or target.startswith(name + "::") or target == ""
            if not related:
                edges[name].add(target)
    return mods, edges


def cycles(nodes, edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main(crates):
    failed = False
    for crate in crates:
        mods, edges = edges_of(os.path.join(crate, "src"))
        for comp in cycles(list(mods), edges):
            failed = True
            print(f"{crate}: import cycle between {', '.join(comp)}")
            for a in comp:
                for b in sorted(edges[a] & set(comp)):
                    print(f"    {a} -> {b}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
