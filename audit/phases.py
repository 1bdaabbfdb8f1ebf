#!/usr/bin/env python3
"""Classifies `strace -ff` traces of escapes by process role and phase, and checks them against
audit/syscalls. Called by audit/check.sh; the attribution rules are documented in
audit/SYSCALLS.md ("How phases are attributed") and repeated here.

Roles: the *parent* is the trace whose first line is the execve of the escapes binary; the
*child* is every process the parent created with clone/clone3/fork/vfork. Any other trace file
belongs to the command's own descendants and is ignored. The child's trace is cut after its first
successful execve/execveat (that syscall is kept: it is ours, what follows is the command's).

Phases of the parent, in order of a small state machine:
  startup  from the first line up to the first trusted-file walk, i.e. the first
           openat(AT_FDCWD, "/", ...O_DIRECTORY...): loader, libc init, process::harden, argv,
           cli parsing, --help/--version output.
  config   non-walk syscalls after the first walk, until the audit log has been opened
           (base_record's facts: getpid, uname, getcwd; a config refusal's stderr line and exit).
  verify   non-walk syscalls after the audit log is open, until the fork: grant reading, the
           hostname, resolving the program, preparing the fork, refusal output and exit.
           --verify-log never walks: from its privilege drop (setresgid/setresuid before any
           walk) on, its syscalls are `verify`.
  wait     everything in the parent from the clone/fork on (including the final audit append
           and exit), as the brief defines it.
Overrides before the fork:
  * a walk (openat "/" then openat of each component relative to the previous directory fd,
    plus every syscall on one of the walk's fds: fstat, read, close) takes the phase of its
    target: `audit` if the path it reached is the audit log or a directory leading only to it,
    otherwise `config` (the config file, pinned key files, /etc/passwd, /etc/group);
  * every syscall on the audit log descriptor (flock, fstat, write, fsync, ftruncate, close) is
    `audit`.
Confined children (they install a seccomp filter, PR_SET_SECCOMP, and never exec): their fork
does not move the parent to `wait`. The parse child (sandbox.rs) is `parse-setup` up to and
including the filter, `parse` after it; the network child (net.rs, recognised by its setgroups
before the filter) is `network-setup` / `network` the same way.
The exec child: every syscall is `exec-child`.
"""

import argparse
import collections
import glob
import re
import sys

PHASES = ("startup", "config", "verify", "audit", "parse-setup", "parse", "network-setup", "network", "exec-child", "wait")
LINE = re.compile(r"^([a-z_][a-z0-9_]*)\((.*)$")
FORKS = {"clone", "clone3", "fork", "vfork"}
EXECS = {"execve", "execveat"}


def parse_trace(path):
    """(syscall, args_and_rest, return value or None, raw line) for each syscall line."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            if not raw or raw.startswith(("---", "+++")):
                continue
            m = LINE.match(raw)
            if not m:
                raise SystemExit(f"phases.py: cannot parse strace line in {path}: {raw!r}")
            name, rest = m.group(1), m.group(2)
            ret = parse_ret(raw)
            out.append((name, rest, ret, raw))
    return out


def parse_ret(raw):
    """The return value after the last " = " (decimal, 0x hex or 0-prefixed octal), or None."""
    _, sep, tail = raw.rpartition(" = ")
    tok = tail.split(" ", 1)[0] if sep else ""
    try:
        if tok.startswith(("0x", "-0x")):
            return int(tok, 16)
        if len(tok) > 1 and tok.startswith("0"):
            return int(tok, 8)
        return int(tok)
    except ValueError:
        return None


def first_int_arg(rest):
    m = re.match(r"\s*(-?\d+)\s*[,)]", rest)
    return int(m.group(1)) if m else None


def openat_args(rest):
    """(dirfd or 'AT_FDCWD', path string) of an openat line, or None."""
    m = re.match(r'\s*(AT_FDCWD|-?\d+),\s*"((?:[^"\\]|\\.)*)"', rest)
    if not m:
        return None
    d = m.group(1)
    return (d if d == "AT_FDCWD" else int(d)), m.group(2)


def is_prefix(a, b):
    """Component-wise: path a is b or an ancestor directory of b."""
    if a == "/":
        return b.startswith("/")
    return b == a or b.startswith(a + "/")


class Classifier:
    def __init__(self, config_path, audit_paths):
        self.config_path = config_path
        self.audit_paths = audit_paths

    def walk_phase(self, target):
        if any(target == p for p in self.audit_paths):
            return "audit"
        if any(is_prefix(target, p) for p in self.audit_paths) and not is_prefix(target, self.config_path):
            return "audit"
        return "config"

    def parent(self, events, confined=lambda pid: None):
        """[(syscall, phase, raw)] for the parent, and the pids it forked. `confined(pid)` names
        the role of a confined child ("parse" or "network"), None for the exec child."""
        walk_of_fd = {}  # fd -> walk id, for fds opened by a walk
        walk_target = {}  # walk id -> deepest path attempted
        walk_path_fd = {}  # fd -> path it names (walk fds only)
        audit_fds = set()
        tagged = []  # (syscall, kind, value, raw): kind in {"walk", "audit", "state"}
        state = "startup"
        walks = 0
        current = None  # the walk in progress, if any
        children = []
        for name, rest, ret, raw in events:
            if state == "wait":
                tagged.append((name, "state", "wait", raw))
                continue
            # process::harden makes every id root (`0, 0, 0`); only --verify-log sets the caller's
            # ids, gives up root, then reads the caller's file.
            if state == "startup" and name in ("setresgid", "setresuid") and not rest.replace(" ", "").startswith("0,0,0"):
                state = "verify"
            if name in FORKS:
                if ret is not None and ret > 0:
                    children.append(ret)
                    if confined(ret):
                        tagged.append((name, "state", state, raw))
                        continue
                state = "wait"
                tagged.append((name, "state", "wait", raw))
                continue
            if name == "openat":
                oa = openat_args(rest)
                opened = ret is not None and ret >= 0
                # A final open (not a directory step) or a failed step ends the walk in progress.
                final = "O_DIRECTORY" not in rest or not opened
                if oa and oa[0] == "AT_FDCWD" and oa[1] == "/" and "O_DIRECTORY" in rest:
                    walks += 1
                    w = walks
                    walk_target[w] = "/"
                    current = None if not opened else w
                    if opened:
                        walk_of_fd[ret] = w
                        walk_path_fd[ret] = "/"
                    if state == "startup":
                        state = "config"
                    tagged.append((name, "walk", w, raw))
                    continue
                if oa and oa[0] != "AT_FDCWD" and oa[0] in walk_path_fd and not oa[1].startswith("/"):
                    # A step from a directory of this walk, or from one an earlier walk left
                    # open (trusted_file keeps them): then a new walk begins.
                    if current is None:
                        walks += 1
                        current = walks
                        walk_target[current] = walk_path_fd[oa[0]]
                    w = current
                    base = walk_path_fd[oa[0]]
                    p = (base.rstrip("/") + "/" + oa[1]) if oa[1] else base
                    if len(p) > len(walk_target[w]):
                        walk_target[w] = p
                    if opened:
                        walk_of_fd[ret] = w
                        walk_path_fd[ret] = p
                        if "O_CREAT" in rest:
                            audit_fds.add(ret)
                    if final:
                        current = None
                    tagged.append((name, "walk", w, raw))
                    continue
            fd = first_int_arg(rest)
            if fd is not None and fd in audit_fds:
                tagged.append((name, "audit", None, raw))
                if name == "close":
                    audit_fds.discard(fd)
                    walk_of_fd.pop(fd, None)
                continue
            if fd is not None and fd in walk_of_fd:
                w = current if current is not None else walk_of_fd[fd]
                tagged.append((name, "walk", w, raw))
                if name == "close":
                    walk_of_fd.pop(fd, None)
                    walk_path_fd.pop(fd, None)
                continue
            tagged.append((name, "state", state, raw))
        # Second pass: a walk's phase is known only from its target; config -> verify happens
        # at the successful O_CREAT open of the audit log.
        result = []
        seen_audit_walk = False
        for name, kind, value, raw in tagged:
            if kind == "walk":
                ph = self.walk_phase(walk_target[value])
                opened = parse_ret(raw)
                if ph == "audit" and name == "openat" and "O_CREAT" in raw and opened is not None and opened >= 0:
                    seen_audit_walk = True  # the log is open: verification starts
                result.append((name, ph, raw))
            elif kind == "audit":
                result.append((name, "audit", raw))
            else:
                ph = value
                if ph == "config" and seen_audit_walk:
                    ph = "verify"
                result.append((name, ph, raw))
        return result, children

    @staticmethod
    def confined_role(events):
        """"parse" or "network" for a child that installs a seccomp filter, else None."""
        dropped = False
        for name, rest, _, _ in events:
            if name in EXECS:
                return None
            dropped = dropped or name == "setgroups"
            if name == "prctl" and "PR_SET_SECCOMP" in rest:
                return "network" if dropped else "parse"
        return None

    @staticmethod
    def confined_child(events, role):
        out, phase = [], role + "-setup"
        for name, rest, _, raw in events:
            out.append((name, phase, raw))
            if name == "prctl" and "PR_SET_SECCOMP" in rest:
                phase = role
        return out

    @staticmethod
    def child(events):
        out = []
        for name, rest, ret, raw in events:
            out.append((name, "exec-child", raw))
            if name in EXECS and ret == 0:
                break
        return out


def load_list(path):
    allowed = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            s = line.split("#", 1)[0].strip()
            if not s:
                continue
            parts = s.split(None, 2)
            if len(parts) < 3:
                raise SystemExit(f"{path}:{n}: want '<syscall> <phase> <reason...>': {line.rstrip()}")
            sc, ph, why = parts
            if ph not in PHASES:
                raise SystemExit(f"{path}:{n}: unknown phase {ph!r} (one of {', '.join(PHASES)})")
            if (sc, ph) in allowed:
                raise SystemExit(f"{path}:{n}: {sc} {ph} listed twice")
            allowed[(sc, ph)] = why
    return allowed


def classify_scenario(prefix, binary, clf):
    files = [p for p in glob.glob(glob.escape(prefix) + ".*") if p.rsplit(".", 1)[1].isdigit()]
    files.sort(key=lambda p: int(p.rsplit(".", 1)[1]))
    traces = {int(p.rsplit(".", 1)[1]): parse_trace(p) for p in files}
    for p in files:
        with open(p, encoding="utf-8", errors="replace") as f:
            if any(l.startswith("+++ killed by SIGSYS") for l in f):
                raise SystemExit(f"phases.py: {prefix}: a process was killed by its seccomp filter ({p})")
    parents = [pid for pid, ev in traces.items() if ev and ev[0][0] == "execve" and f'"{binary}"' in ev[0][3]]
    if len(parents) != 1:
        raise SystemExit(f"phases.py: {prefix}: expected one escapes process, found {parents}")
    pid = parents[0]
    roles = {c: clf.confined_role(ev) for c, ev in traces.items()}
    parent, children = clf.parent(traces[pid], lambda c: roles.get(c))
    rows = [(sc, ph, "parent", raw) for sc, ph, raw in parent]
    for c in children:
        if c not in traces:
            raise SystemExit(f"phases.py: {prefix}: no trace for child {c}")
        if roles.get(c):
            rows += [(sc, ph, roles[c] + "-child", raw) for sc, ph, raw in clf.confined_child(traces[c], roles[c])]
        else:
            rows += [(sc, ph, "child", raw) for sc, ph, raw in clf.child(traces[c])]
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--config-path", required=True)
    ap.add_argument("--audit-path", action="append", required=True)
    ap.add_argument("--count-scenario", action="append", default=[])
    ap.add_argument("--dump", help="write every classified syscall here (scenario phase role line)")
    ap.add_argument("scenarios", nargs="+", help="NAME=STRACE_PREFIX")
    a = ap.parse_args()

    allowed = load_list(a.list)
    clf = Classifier(a.config_path, a.audit_path)
    seen = collections.defaultdict(set)  # (syscall, phase) -> scenarios
    bad = collections.OrderedDict()  # (syscall, phase, role) -> (scenarios, example line)
    counts = {}
    dump = open(a.dump, "w", encoding="utf-8") if a.dump else None
    for spec in a.scenarios:
        name, prefix = spec.split("=", 1)
        rows = classify_scenario(prefix, a.binary, clf)
        per = collections.Counter()
        for sc, ph, role, raw in rows:
            seen[(sc, ph)].add(name)
            per[ph] += 1
            if dump:
                dump.write(f"{name}\t{ph}\t{role}\t{raw}\n")
            if (sc, ph) not in allowed:
                entry = bad.setdefault((sc, ph, role), ([], raw))
                if name not in entry[0]:
                    entry[0].append(name)
        counts[name] = per
    if dump:
        dump.close()

    for (sc, ph, role), (names, raw) in bad.items():
        print(f"UNLISTED: {sc} {ph} ({role}) in scenario(s) {', '.join(names)}: {raw[:160]}")

    by_phase = collections.defaultdict(set)
    for sc, ph in seen:
        by_phase[ph].add(sc)
    for ph in PHASES:
        print(f"  {ph:<10} {' '.join(sorted(by_phase[ph]))}")
    unseen = sorted(k for k in allowed if k not in seen)
    if unseen:
        print("  listed, not exercised by these scenarios: " + ", ".join(f"{s} {p}" for s, p in unseen))
    for name in a.count_scenario:
        if name not in counts:
            continue
        c = counts[name]
        children = ("exec-child", "parse-setup", "parse", "network-setup", "network")
        parent = sum(v for k, v in c.items() if k not in children)
        total = sum(c.values())
        kids = sum(c[k] for k in children)
        detail = " ".join(f"{ph}={c[ph]}" for ph in PHASES if c[ph])
        print(f"{name} scenario: {total} syscalls (parent {parent} + children {kids}; {detail}); issue target <= 120 with the command's own")
    names = {sc for sc, _ in seen}
    if bad:
        print(f"syscalls: {len(bad)} unlisted (syscall, phase) pair(s); add them to {a.list} with a reason, or fix the code")
        return 1
    print(f"syscalls: {len(names)} distinct ({len(seen)} syscall/phase pairs) over {len(counts)} scenarios, all listed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
