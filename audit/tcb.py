#!/usr/bin/env python3
"""The trusted computing base of escapes, counted from the source (`make tcb`).

Code lines are lines that are neither blank nor comment, outside any `#[cfg(test)]` item and
outside test-only files. Each file of `src/` (and of the crates escapes links from this
workspace, `opwire/`) is a module; a module *references* another when it names it in a `use`
or a path (`crate::a::b`, `super::x`, `opwire::trusted`, or a name a `use` brought in). A
parent's `pub use x::*` of its own child `x` references it; declaring `pub mod x;` alone does
not (src/sys/mod.rs re-exports what the root process calls and only declares `bpf` and `net`,
which the confined child names as `sys::bpf::…` and `sys::net::…`).

Where code runs is decided by references, not by folders alone:
  * Every module an entry point reaches through references runs in the root process, and
    counts as **root-executed**: a pure parser the parent calls counts. The entry points are
    `src/main.rs` and `src/sys/start.rs`, the binary's ELF entry (`escapes_start`, which
    build.rs links in and no Rust code names).
  * `src/confined/child/` runs only in a confined child. The only reference into it is the
    fork in `src/confined/spawn.rs`; that edge is not followed. A module reached only from
    the child counts as child code.
  * `src/unprivileged/` runs only after the process has given up root for good (`--verify-log`
    drops every id to the caller's first). The only references into it are from
    `src/mode/verify_log.rs`, right after the drop.
Any other reference into those folders from root-executed code is an error, and so is a
cycle among modules. Exit status: 0, or 1 with the problem named.

Usage: tcb.py                  the table as text, then the totals and `root-executed:`
       tcb.py --markdown       the same as the markdown SECURITY.md holds
       tcb.py --write FILE     replace FILE's block between the tcb markers with --markdown
       tcb.py --check FILE     also fail when FILE's block differs from --markdown (CI)
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
CRATES = {"crate": "src", "opwire": "opwire/src"}
# Where the root process starts: main, and the assembly that runs before glibc's _start.
ENTRIES = ["src/main.rs", "src/sys/start.rs"]
# (folder prefix, class, the one file allowed to reference into it, why).
BOUNDARIES = [
    ("src/confined/child/", "confined child", "src/confined/spawn.rs", "the fork: only the child calls into it"),
    ("src/unprivileged/", "unprivileged", "src/mode/verify_log.rs", "after every id was dropped to the caller's"),
]


def strip(text):
    """Text with comments and string/char literal contents removed, line structure kept."""
    out, i, n = [], 0, len(text)
    depth = 0
    while i < n:
        c = text[i]
        if depth:
            if text.startswith("*/", i):
                depth -= 1
                i += 2
            elif text.startswith("/*", i):
                depth += 1
                i += 2
            else:
                if c == "\n":
                    out.append(c)
                i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            depth = 1
            i += 2
            continue
        m = re.match(r'b?r(#*)"', text[i:]) if c in "br" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) else None
        if m:
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
            continue
        if c == "'":
            m = re.match(r"'(\\.[^']*|[^'\\])'", text[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
                continue
        out.append(c)
        i += 1
    return "".join(out)


def drop_tests(code):
    """Removes `#[cfg(test)]` items, and those built only for tests and fuzzing
    (`#[cfg(any(test, feature = "fuzz"))]`): attribute plus the item, to its closing brace or
    `;`."""
    lines = code.split("\n")
    kept, i = [], 0
    while i < len(lines):
        s = lines[i].strip()
        if re.match(r"#\[cfg\((all\()?test\b", s) or re.match(r'#\[cfg\(any\(test,\s*feature\s*=\s*""\)\)\]', s):
            i += 1
            depth, started = 0, False
            while i < len(lines):
                t = lines[i]
                depth += t.count("{") - t.count("}")
                started = started or "{" in t
                i += 1
                if (started and depth <= 0) or (not started and t.strip().endswith(";")):
                    break
            continue
        kept.append(lines[i])
        i += 1
    return "\n".join(kept)


def modules():
    """{file: module path as a tuple ('crate', 'a', 'b')} for every source file."""
    found = {}
    for crate, root in CRATES.items():
        base = os.path.join(TOP, root)
        for d, _, files in os.walk(base):
            for f in files:
                if not f.endswith(".rs"):
                    continue
                rel = os.path.relpath(os.path.join(d, f), base)
                parts = rel[:-3].split(os.sep)
                if parts == ["main"]:
                    parts = ["<main>"]  # the binary: not the library's root module
                elif parts[-1] in ("mod", "lib"):
                    parts = parts[:-1]
                if f == "tests.rs" or rel.startswith("bin" + os.sep):
                    continue  # test modules beside code; helper binaries are not ours
                found[os.path.join(root, rel)] = (crate, *parts)
    return found


def resolve(path, by_mod):
    """The file of the deepest module that `path` (a tuple) names."""
    # Down to the crate root itself: `escapes::main` names an item of lib.rs.
    for k in range(len(path), 0, -1):
        f = by_mod.get(path[:k])
        if f:
            return f
    return None


def references(f, mod, code, by_mod):
    """Modules `f` refers to."""
    here = mod

    def absolute(segs):
        if not segs:
            return None
        head = segs[0]
        if head in ("crate", "escapes"):
            # main.rs names the library by its crate name.
            return ("crate", *segs[1:])
        if head in CRATES and head != "crate":
            return (head, *segs[1:])
        if head == "self":
            return (*here, *segs[1:])
        if head == "super":
            up = list(here)
            while segs and segs[0] == "super":
                up = up[:-1]
                segs = segs[1:]
            return (*up, *segs)
        return None

    refs = set()
    names = {}  # local name -> absolute path, from `use`
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        if m.group(1).startswith(("std", "core", "alloc", "libc")):
            continue
        for p in expand_use(m.group(1).strip()):
            if not p:
                continue
            a = absolute(p)
            if a:
                refs.add(a)
                names[p[-1] if p[-1] != "self" else p[-2]] = a[:-1] if p[-1] == "self" else a
    for m in re.finditer(r"\b((?:crate|super|self|opwire|escapes)(?:::[A-Za-z_][A-Za-z0-9_]*)+)", code):
        a = absolute(m.group(1).split("::"))
        if a:
            refs.add(a)
    # A name a `use` brought in, then used as a path head: `json::parse`.
    for m in re.finditer(r"\b([a-z_][a-z0-9_]*)::([A-Za-z_][A-Za-z0-9_]*)", code):
        a = names.get(m.group(1))
        if a:
            refs.add((*a, m.group(2)))
    # Child modules a parent declares and then calls into: `mod x;` plus `x::f` in the parent.
    for m in re.finditer(r"\bmod\s+([a-z_][a-z0-9_]*)\s*;", code):
        child = (*here, m.group(1))
        if re.search(r"\b" + m.group(1) + r"::", code):
            refs.add(child)
    out = set()
    for r in refs:
        t = resolve(r, by_mod)
        if t and t != f:
            out.add(t)
    return out


def expand_use(spec):
    """`a::{b, c::d}` -> [[a, b], [a, c, d]]."""
    spec = re.sub(r"\s+as\s+", "@", spec)  # `x as y`: the path is x
    spec = re.sub(r"\s+", "", spec)

    def go(prefix, s):
        if "{" not in s:
            s = s.split("@")[0]
            return [prefix + [x for x in s.split("::") if x and x != "*"]]
        head, rest = s.split("{", 1)
        inner = rest[:-1]
        parts, depth, cur = [], 0, ""
        for ch in inner:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            cur += ch
        if cur:
            parts.append(cur)
        base = prefix + [x for x in head.split("::") if x]
        res = []
        for p in parts:
            res += go(base, p)
        return res

    return go([], spec)


def boundary_of(f):
    for prefix, cls, gate, why in BOUNDARIES:
        if f.startswith(prefix):
            return prefix, cls, gate, why
    return None


def main():
    files = modules()
    by_mod = {m: f for f, m in files.items()}
    code, lines, graph = {}, {}, {}
    for f, m in files.items():
        with open(os.path.join(TOP, f), encoding="utf-8") as h:
            c = drop_tests(strip(h.read()))
        code[f] = c
        lines[f] = sum(1 for l in c.split("\n") if l.strip())
    # A feature-gated module (`#[cfg(feature = ...)] mod x;`) is not in the shipped binary.
    gated = set()
    for f, c in code.items():
        for m in re.finditer(r"#\[cfg\(feature\s*=\s*\"\"\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_0-9]+)\s*;", c):
            t = resolve((*files[f], m.group(1)), by_mod)
            if t:
                gated.add(t)
    for f, m in files.items():
        graph[f] = references(f, m, code[f], by_mod) - gated
    problems = []
    # Reachability from the entry, stopping at the boundaries.
    root, stack = set(), list(ENTRIES)
    while stack:
        f = stack.pop()
        if f in root:
            continue
        root.add(f)
        for t in graph[f]:
            b = boundary_of(t)
            if b and not boundary_of(f):
                prefix, cls, gate, why = b
                if f != gate:
                    problems.append(f"{f} references {t}, which runs in the {cls} process only ({gate} alone may: {why})")
                continue
            if t not in root:
                stack.append(t)
    beyond = set()
    for prefix, cls, gate, _ in BOUNDARIES:
        stack = [t for t in graph.get(gate, ()) if t.startswith(prefix)]
        while stack:
            f = stack.pop()
            if f in beyond or f in root:
                continue
            beyond.add(f)
            stack += [t for t in graph[f] if t not in root]
    # Cycles (ignoring a folder module's re-exports of its own children).
    def edges(f):
        d = os.path.dirname(f)
        own = f.endswith("mod.rs")
        return [t for t in graph[f] if not (own and t.startswith(d + os.sep))]
    index, low, onstack, st, sccs, counter = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        st.append(v)
        onstack.add(v)
        for w in edges(v):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in onstack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = st.pop()
                onstack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    for c in sccs:
        problems.append("module cycle: " + " -> ".join(c))

    def where(f):
        if f in root:
            return "root"
        b = boundary_of(f)
        if b or f in beyond:
            return b[1] if b else "confined child"
        if f in gated:
            return "feature-gated (not shipped)"
        return "unused by the binary"

    rows = sorted(files, key=lambda f: (where(f) != "root", f))
    totals = {}
    for f in files:
        totals[where(f)] = totals.get(where(f), 0) + lines[f]
    order = sorted(totals, key=lambda k: -totals[k])
    text = [f"{lines[f]:6d}  {where(f):28s} {f}" for f in rows] + [""]
    text += [f"{k}: {totals[k]}" for k in order] + [f"root-executed: {totals.get('root', 0)}"]
    md = ["| runs in | code lines |", "|---|---:|"]
    md += [f"| {k} | {totals[k]} |" for k in order] + [""]
    md += ["| module | code lines | runs in |", "|---|---:|---|"]
    md += [f"| `{f}` | {lines[f]} | {where(f)} |" for f in rows] + [""]
    md += [f"root-executed: {totals.get('root', 0)}"]
    args = sys.argv[1:]
    if args[:1] == ["--write"] and len(args) == 2:
        problems += write_block(args[1], md)
    elif args[:1] == ["--check"] and len(args) == 2:
        print("\n".join(text))
        problems += check_block(args[1], md)
    elif args == ["--markdown"]:
        print("\n".join(md))
    elif not args:
        print("\n".join(text))
    else:
        problems.append("usage: tcb.py [--markdown | --write FILE | --check FILE]")
    for p in problems:
        print("tcb: " + p, file=sys.stderr)
    return 1 if problems else 0


BEGIN = "<!-- tcb: generated by `make tcb-doc` (audit/tcb.py --write); edit the code, not this table -->"
END = "<!-- tcb: end -->"


def split_block(path):
    with open(path, encoding="utf-8") as h:
        doc = h.read()
    b, e = doc.find(BEGIN), doc.find(END)
    if b < 0 or e < b:
        return None
    return doc[: b + len(BEGIN)], doc[b + len(BEGIN) : e], doc[e:]


def write_block(path, md):
    parts = split_block(path)
    if parts is None:
        return [f"{path} has no tcb markers"]
    with open(path, "w", encoding="utf-8") as h:
        h.write(parts[0] + "\n\n" + "\n".join(md) + "\n\n" + parts[2])
    return []


def check_block(path, md):
    parts = split_block(path)
    if parts is None:
        return [f"{path} has no tcb markers"]
    if parts[1].strip() != "\n".join(md).strip():
        return [f"{path}'s TCB table is out of date: run `make tcb-doc`"]
    return []


if __name__ == "__main__":
    sys.exit(main())
