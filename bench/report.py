#!/usr/bin/env python3
"""bench/report.py OUT RESULTS_MD: turns the raw measurements of bench/run.sh into the table.

OUT holds hyperfine/<row>.<round>.json, strace/<row>.txt, rss/<row>.<i>.txt,
callgrind/<row>.<i>/callgrind.out.*, binaries.tsv, rows.txt, params.txt, notes.txt and a few
one-number files. Nothing is measured here except the binaries' sizes and libraries.
"""
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

OUT, DEST = sys.argv[1], sys.argv[2]
MIB = 1024 * 1024

LABELS = {
    "true": "bare `/bin/true`",
    "escapes": "**escapes** (static-pie, as `make install` ships it), offline `always` grant, pinned key",
    "escapes-dynamic": "escapes, same, dynamic (LINK=dynamic) build",
    "escapes-once": "escapes, `once` grant, /consume at the loopback test IdP (TLS)",
    "doas": "`doas -n` (OpenDoas)",
    "sudo": "`sudo -n`",
    "sudo-rs": "`sudo-rs -n`",
    "esc-log1g": "escapes with a 1 GiB audit log",
    "esc-approvers": "escapes with {approvers} allowed approvers",
    "esc-token16k": "escapes with a {toklen}-byte token (cap 16,384)",
    "esc-keys100": "escapes with 100 keys in the pinned JWKS ({keys100} bytes), ours last",
    "esc-issuers100": "escapes with 100 issuers, one pinned JWKS file each, ours last",
    "esc-tmpfslog": "escapes with the audit log on tmpfs (fsync costs nothing)",
}
MAIN = ["true", "escapes", "escapes-dynamic", "escapes-once", "doas", "sudo", "sudo-rs"]
SCALING = ["esc-log1g", "esc-approvers", "esc-token16k", "esc-keys100", "esc-issuers100", "esc-tmpfslog"]


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


rows = read(f"{OUT}/rows.txt").split()
params = dict(kv.split("=") for kv in read(f"{OUT}/params.txt").split())
approvers_n, approvers_size = (read(f"{OUT}/approvers.n", "0 0").split() + ["0"])[:2]


def label(row):
    return LABELS.get(row, row).format(
        approvers=f"{int(approvers_n):,}",
        toklen=f"{int(read(f'{OUT}/bigtoken.len', '0')):,}",
        keys100=f"{int(read(f'{OUT}/keys100.size', '0')):,}",
    )


# --- wall time --------------------------------------------------------------------------------
def times(row):
    ts = []
    for p in sorted(glob.glob(f"{OUT}/hyperfine/{row}.*.json")):
        with open(p) as f:
            ts += json.load(f)["results"][0]["times"]
    return ts


wall = {}
for row in rows:
    ts = times(row)
    if ts:
        wall[row] = {"min": min(ts) * 1e3, "median": statistics.median(ts) * 1e3, "n": len(ts),
                     "p90": sorted(ts)[int(len(ts) * 0.9) - 1] * 1e3}


# --- syscalls ---------------------------------------------------------------------------------
def syscalls(row):
    text = read(f"{OUT}/strace/{row}.txt")
    total, per = None, []
    for line in text.splitlines():
        f = line.split()
        if not f or not re.match(r"^[\d.]+$", f[0]):
            continue
        name = f[-1]
        calls = int(f[3])
        if name == "total":
            total = calls
        else:
            per.append((calls, name))
    per.sort(reverse=True)
    return total, per


sysc = {row: syscalls(row) for row in rows}


# --- peak RSS ---------------------------------------------------------------------------------
def rss(row):
    vals = []
    for p in glob.glob(f"{OUT}/rss/{row}.*.txt"):
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", read(p))
        if m:
            vals.append(int(m.group(1)))
    return statistics.median(vals) if vals else None


peak = {row: rss(row) for row in rows}


# --- callgrind --------------------------------------------------------------------------------
def cg_total(path):
    text = read(path)
    m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def callgrind(row):
    """[(total Ir, biggest file, number of files, exit code)] per run. The exit code is the one
    bench/run.sh recorded for the run under valgrind (None: not recorded)."""
    runs = []
    for d in sorted(glob.glob(f"{OUT}/callgrind/{row}.*")):
        files = glob.glob(f"{d}/callgrind.out.*")
        rc = read(f"{d}/exit")
        rc = int(rc) if re.match(r"^-?\d+$", rc) else None
        if files or rc:
            runs.append((sum(cg_total(p) for p in files), max(files, key=cg_total) if files else None, len(files), rc))
    return runs


cg = {row: callgrind(row) for row in rows}


def cg_failed(row):
    """Exit codes of the row's callgrind runs that failed (exited non-zero): any one of them
    makes the row's instruction count the count of a failed run, not a result."""
    return [r[3] for r in cg.get(row, []) if r[3]]


def ir(row):
    """Instructions of the row's first callgrind run; None when missing or any run failed."""
    r = cg.get(row)
    if not r or cg_failed(row):
        return None
    return r[0][0] or None


def ir_cell(row):
    """The instructions cell: the number, or for a failed run the number struck out and marked."""
    bad = cg_failed(row)
    if bad:
        raw = cg[row][0][0]
        shown = f"~~{raw / 1e6:.3f} M~~ " if raw else ""
        return f"{shown}**INVALID: callgrind run exited {'/'.join(str(b) for b in sorted(set(bad)))}**"
    return mio(ir(row))


# --- binaries ---------------------------------------------------------------------------------
def binary(path):
    size = os.path.getsize(path)
    with tempfile.TemporaryDirectory() as t:
        subprocess.run(["strip", "-o", f"{t}/b", path], capture_output=True)
        stripped = os.path.getsize(f"{t}/b") if os.path.exists(f"{t}/b") else size
    ldd = sh("ldd", path)
    if "not a dynamic" in ldd or "statically linked" in ldd:
        libs = "none (static)"
    else:
        names = [ln.split()[0] for ln in ldd.splitlines() if ln.strip()]
        names = [os.path.basename(n) for n in names if not n.startswith("linux-vdso")]
        libs = ", ".join(n for n in names if not n.startswith("ld-linux")) + " (+ ld.so)"
    return size, stripped, libs


bins = {}
for line in read(f"{OUT}/binaries.tsv").splitlines():
    row, path = line.split("\t")
    if os.path.exists(path):
        bins[row] = binary(path)


# --- formatting -------------------------------------------------------------------------------
def ms(v):
    return f"{v:.2f}" if v is not None else "–"


def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "–"


def kib(v):
    return f"{v / 1024:.2f} MiB" if v is not None else "–"


def mio(v):
    return f"{v / 1e6:.3f} M" if v else "–"


def num(v):
    return f"{v:,}" if v is not None else "–"


doas_med = wall.get("doas", {}).get("median")
true_med = wall.get("true", {}).get("median")
esc_med = wall.get("escapes", {}).get("median")
doas_ir = ir("doas")
cg_bad = [row for row in rows if cg_failed(row)]
cg_bad_note = (
    "**Callgrind failed** (exit non-zero under valgrind) for "
    + ", ".join(f"`{r}`" for r in cg_bad)
    + ": their instruction counts are of a failed run, marked INVALID, and left out of every ratio and target."
    " See the notes at the end and target/bench/results/callgrind/<row>.<run>/valgrind.log."
) if cg_bad else None

def cpu_use():
    """Busy and stolen shares of all CPUs over the timed phase, from /proc/stat."""
    try:
        a = [int(x) for x in read(f"{OUT}/stat-start.txt").split()[1:]]
        b = [int(x) for x in read(f"{OUT}/stat-end.txt").split()[1:]]
    except ValueError:
        return "CPU use not recorded"
    d = [y - x for x, y in zip(a, b)]
    total = sum(d[:8]) or 1
    idle = d[3] + d[4]
    return f"during the timed phase the CPUs were {100 * (total - idle) / total:.0f}% busy (this run's own work included), {100 * d[7] / total:.1f}% stolen by the hypervisor"


L = []
now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
cpu = next((ln.split(":", 1)[1].strip() for ln in read("/proc/cpuinfo").splitlines() if ln.startswith("model name")), "?")
mem = next((ln.split()[1] for ln in read("/proc/meminfo").splitlines() if ln.startswith("MemTotal")), "0")
distro = next((ln.split("=", 1)[1].strip('"') for ln in read("/etc/os-release").splitlines() if ln.startswith("PRETTY_NAME")), "?")
commit = sh("git", "rev-parse", "--short", "HEAD")
dirty = " (plus uncommitted changes)" if sh("git", "status", "--porcelain", "--untracked-files=no") else ""
L += [
    "# escapes benchmark results",
    "",
    "Written by `make bench` (bench/run.sh, bench/report.py); rerun to refresh. Every number below comes",
    "from one run on one machine; nothing here is a test.",
    "",
    f"- **Date:** {now}",
    f"- **Machine:** {sh('nproc')} vCPUs, {cpu}, {int(mem) // 1024:,} MiB RAM; {distro}; kernel {platform.release()}",
    f"- **Load average:** at start `{read(f'{OUT}/load-start.txt').split('load average:')[-1].strip()}`, at end `{read(f'{OUT}/load-end.txt').split('load average:')[-1].strip()}`",
    f"- **escapes:** commit {commit}{dirty}, release profile (LTO, codegen-units 1, panic=abort)",
    f"- **Peers:** {sh('sudo', '-V').splitlines()[0] if sh('sudo', '-V') else 'sudo ?'}; opendoas {sh('dpkg-query', '-W', '-f', '${Version}', 'opendoas')}; "
    + (f"{sh(OUT.rsplit('/', 1)[0] + '/sudo-rs/bin/sudo', '-V').splitlines()[0] if 'sudo-rs' in rows else 'sudo-rs: not measured'}")
    + f"; {sh('hyperfine', '--version')}; valgrind {sh('valgrind', '--version')}",
    "",
    "**Noise.** This machine has 2 vCPUs, and other engineers were compiling and fuzzing during the run",
    f"({cpu_use()}). Absolute times are therefore noisy: under contention a freshly",
    "forked process can wait a whole scheduler tick (4 ms), which shows as medians stuck near multiples of 4 ms.",
    "Against that: hyperfine runs at nice -20 (every row alike), and the rows are interleaved",
    f"({params['rounds']} rounds; each round runs every row for {params['per_round']} timed runs after 2 warm-ups, in an order rotated each",
    f"round), so all rows see the same background load. Medians are over all {params['rounds']}×{params['per_round']} runs; the minimum is",
    "the uncontended cost. Compare ratios within this run. Syscall and instruction counts do not depend on the load.",
    "",
    "## Per tool",
    "",
    "Same unprivileged user (`escapes-bench`), same command (`/bin/true`), stdin not a terminal.",
    "",
    "| tool | min ms | median ms | × doas | × /bin/true | syscalls incl. child | peak RSS | instructions (callgrind) | × doas | binary (stripped) | linked libraries |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
]
for row in [r for r in MAIN if r in rows]:
    w = wall.get(row, {})
    size = bins.get(row)
    b = f"{size[1] / MIB:.2f} MiB" if size else "–"
    libs = size[2] if size else "–"
    L.append(
        f"| {label(row)} | {ms(w.get('min'))} | {ms(w.get('median'))} | {ratio(w.get('median'), doas_med)} | {ratio(w.get('median'), true_med)} | "
        f"{num(sysc[row][0])} | {kib(peak[row])} | {ir_cell(row)} | {ratio(ir(row), doas_ir) if row != 'true' else '–'} | {b} | {libs} |"
    )
if cg_bad_note:
    L += ["", cg_bad_note]
L += [
    "",
    "- *escapes* rows are the crt-static (static-pie) build that `make build`/`install`/`deb` ship (built",
    "  with `--target` the host triple); the dynamic row is `make LINK=dynamic build`. Same source, same",
    "  release profile, same compiled-in config path.",
    "- *Instructions* count the elevating program, from its first instruction (the dynamic loader's",
    "  included, where there is one): a non-setuid copy run as root under `valgrind --tool=callgrind",
    "  --trace-children=no`, all output files summed, with `--dump-before='*fork'` so that a forked child's",
    "  count starts at the fork instead of repeating its parent's. A forked child that goes on to exec",
    "  `/bin/true` leaves no callgrind output (alike for every tool: escapes, doas with PAM, sudo and sudo-rs",
    "  all fork), so what is counted is the parent, plus escapes' confined children that exit without exec",
    "  (the token-parsing child in every escapes row, the network child in the once row).",
    "  `/bin/true` itself is not counted (its own row is the loader plus `true`). A callgrind run that",
    "  exits non-zero is not a result: its count is shown struck out and marked INVALID.",
    "- The escapes copies callgrind runs are built with `--features valgrind` (bench only, never installed):",
    "  they differ from the timed setuid ones only by a longer seccomp allow-list in the confined parse and",
    "  network children (valgrind's own syscalls, which would otherwise get those children killed).",
    "- *Syscalls* are `strace -f -c -u escapes-bench` (as root), so they include `/bin/true` after the exec.",
    "- *Peak RSS* is `/usr/bin/time -v` (median of 5) as the bench user: the larger of the tool and `/bin/true`.",
    "- sudo additionally `dlopen`s its sudoers plugin and PAM modules, which `ldd` does not show.",
]
if "sudo" in rows:
    plug = "/usr/libexec/sudo/sudoers.so"
    if os.path.exists(plug):
        L.append(f"  (`{plug}`: {os.path.getsize(plug) / MIB:.2f} MiB.)")

# repeatability of callgrind
rep = []
for row in rows:
    r = cg.get(row, [])
    if cg_failed(row):
        rep.append(f"{row} INVALID (failed run)")
    elif len(r) >= 2 and r[0][0]:
        rep.append(f"{row} {abs(r[1][0] - r[0][0]) / r[0][0] * 100:.2f}%")
L += ["- Callgrind repeatability (difference between two runs): " + ", ".join(rep) + "."]

# --- scaling ----------------------------------------------------------------------------------
L += [
    "",
    "## Scaling (escapes, offline `always` grant)",
    "",
    "Measured in the same rounds as the table above, with the same static-pie build; the ratio is to the",
    "plain escapes row of this run.",
    "",
    "| case | min ms | median ms | × escapes | syscalls incl. child | peak RSS | instructions |",
    "|---|---:|---:|---:|---:|---:|---:|",
    f"| baseline (row above) | {ms(wall.get('escapes', {}).get('min'))} | {ms(esc_med)} | 1.00× | {num(sysc.get('escapes', (None,))[0])} | {kib(peak.get('escapes'))} | {ir_cell('escapes')} |",
]
for row in [r for r in SCALING if r in rows]:
    w = wall.get(row, {})
    L.append(f"| {label(row)} | {ms(w.get('min'))} | {ms(w.get('median'))} | {ratio(w.get('median'), esc_med)} | {num(sysc[row][0])} | {kib(peak[row])} | {ir_cell(row)} |")
if any(r in cg_bad for r in SCALING + ["escapes"]):
    L += ["", cg_bad_note]
log_size = int(read(f"{OUT}/log1g.size", "0"))
a10k_size = int(read(f"{OUT}/approvers10k.size", "0"))
a10k_rc = read(f"{OUT}/approvers10k.rc")
a10k_err = read(f"{OUT}/approvers10k.err").splitlines()
L += [
    "",
    f"- The 1 GiB log is {log_size:,} bytes of real audit lines on disk ({sh('findmnt', '-no', 'FSTYPE', '-T', '/var/lib/escapes-bench') or '?'}, not tmpfs, not sparse),",
    "  synced before the runs and deleted at the end. escapes reads only its last line (for the hash chain).",
]
if a10k_rc != "0":
    L += [
        f"- **10,000 approvers do not fit**: that config is {a10k_size:,} bytes, over escapes' 64 KiB config cap,",
        f"  and escapes refuses it (exit {a10k_rc}: `{a10k_err[0] if a10k_err else ''}`). The row measures the most",
        f"  approvers that fit under the cap instead: {int(approvers_n):,} ({int(approvers_size):,} bytes), ours last.",
    ]
else:
    L.append(f"- 10,000 approvers fit in the config ({a10k_size:,} bytes).")

# --- targets ----------------------------------------------------------------------------------
def verdict(ok):
    return "**INVALID**" if ok is None else "**met**" if ok else "**missed**"


def targets(row):
    out = []
    w = wall.get(row, {}).get("median")
    if w is not None and doas_med:
        mn, dmn = wall[row]["min"], wall["doas"]["min"]
        out.append(("median ≤ 0.4× doas", f"{w:.2f} ms = {w / doas_med:.2f}× doas ({doas_med:.2f} ms); min {mn:.2f} = {mn / dmn:.2f}× doas' min", w <= 0.4 * doas_med))
    s = sysc.get(row, (None,))[0]
    if s is not None:
        out.append(("≤ 120 syscalls incl. child", f"{s}", s <= 120))
    p = peak.get(row)
    if p is not None:
        out.append(("peak RSS ≤ 1.5 MiB", f"{p / 1024:.2f} MiB", p <= 1.5 * 1024))
    i = ir(row)
    if cg_failed(row) or cg_failed("doas"):
        who = " and ".join(r for r in (row, "doas") if cg_failed(r))
        out.append(("callgrind ≤ 0.5× doas", f"INVALID: the callgrind run of {who} failed", None))
    elif i and doas_ir:
        out.append(("callgrind ≤ 0.5× doas", f"{i / 1e6:.3f} M = {i / doas_ir:.3f}× doas ({doas_ir / 1e6:.3f} M)", i <= 0.5 * doas_ir))
    b = bins.get(row)
    if b:
        out.append(("stripped binary ≤ 1.5 MiB with TLS", f"{b[1] / MIB:.2f} MiB ({b[1]:,} bytes)", b[1] <= 1.5 * MIB))
    return out


L += ["", "## Targets (issue 8)", ""]
cols = [r for r in ("escapes", "escapes-dynamic") if r in rows]
col_name = {"escapes": "escapes (static-pie, as `make install` ships it)", "escapes-dynamic": "escapes-dynamic (LINK=dynamic)"}
L.append("| target | " + " | ".join(f"{col_name[r]}: value" for r in cols) + " | " + " | ".join(f"{col_name[r]}" for r in cols) + " |")
L.append("|---|" + "---|" * (2 * len(cols)))
tt = {r: targets(r) for r in cols}
for k in range(len(tt.get("escapes", []))):
    name = tt["escapes"][k][0]
    vals, vs = [], []
    for r in cols:
        hit = [t for t in tt[r] if t[0] == name]
        vals.append(hit[0][1] if hit else "–")
        vs.append(verdict(hit[0][2]) if hit else "–")
    L.append(f"| {name} | " + " | ".join(vals) + " | " + " | ".join(vs) + " |")

# --- where escapes' instructions and syscalls go ----------------------------------------------
def annotate(path, inclusive):
    text = sh("callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", path)
    out, started = [], False
    for ln in text.splitlines():
        if "file:function" in ln:
            started = True
            continue
        if started and re.match(r"^\s*[\d,]+ \(", ln):
            out.append(ln.rstrip())
        elif started and out and not ln.strip():
            break
    return out


L += ["", "## Where escapes spends it", ""]
def tidy(lines):
    out = []
    for ln in lines:
        ln = re.sub(r" \[[^\]]*/([^/\]]+)\]$", r"  [\1]", ln)
        out.append(ln.replace("???:", ""))
    return out


if cg_failed("escapes"):
    L += ["**Not shown: the callgrind run of the offline row failed** (see the notes at the end).", ""]
elif cg.get("escapes") and cg["escapes"][0][1]:
    main_file = cg["escapes"][0][1]
    L += [f"Callgrind, offline row, escapes itself ({cg_total(main_file):,} Ir). Self cost by function:", "", "```"]
    L += tidy(annotate(main_file, False)[:15]) + ["```", ""]
    every = annotate(main_file, False)
    # The one Ed25519 verify: ring's curve25519 code (salty is linked only if something calls it).
    curve = sum(int(ln.split()[0].replace(",", "")) for ln in every if "curve25519" in ln or "salty::" in ln)
    rest = (ir("escapes") or 0) - curve
    L += [f"The Ed25519 verify (ring's curve25519 functions) takes {curve / 1e6:.3f} M of the {ir('escapes') / 1e6:.3f} M. Everything else is"
          f" {rest / 1e6:.3f} M{f' = {rest / doas_ir:.2f}× doas' if doas_ir else ''}: what escapes would cost with a verifier that is free.", ""]
unstripped = params.get("unstripped", "")
if unstripped and os.path.exists(unstripped):
    import collections
    by = collections.Counter()
    for ln in sh("nm", "-C", "-S", "--size-sort", unstripped).splitlines():
        p = ln.split(None, 3)
        if len(p) < 4 or p[2].lower() not in ("t", "r", "d"):
            continue
        name = re.sub(r"^(_?<)+", "", p[3]).removeprefix("impl ")
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", name)
        by[m.group(1) if m else "C/asm (mostly ring's) and unnamed"] += int(p[1], 16)
    total_sym = sum(by.values())
    L += [f"Binary size by crate (symbol bytes of the unstripped build, {total_sym / MIB:.2f} MiB of code and data in named symbols): "
          + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in by.most_common(10)) + ".", ""]
if cg.get("escapes-once") and cg["escapes-once"][0][1] and not cg_failed("escapes-once"):
    d = os.path.dirname(cg["escapes-once"][0][1])
    files = glob.glob(d + "/callgrind.out.*")
    # The network child: the file whose process is not the one valgrind started (its pid differs).
    top = min(int(re.search(r"out\.(\d+)", p).group(1)) for p in files)
    child = [p for p in files if int(re.search(r"out\.(\d+)", p).group(1)) != top]
    if child:
        c = max(child, key=cg_total)
        L += [f"Once row: the escapes process {sum(cg_total(p) for p in files if p not in child):,} Ir, its unprivileged network child",
              f"(TLS handshake and the /consume request) {cg_total(c):,} Ir. The child's self cost by function:", "", "```"]
        L += tidy([ln for ln in annotate(c, False) if "(100.0%)" not in ln][:10]) + ["```", ""]
if sysc.get("escapes") and sysc["escapes"][1]:
    L.append("Syscalls of the offline row by count (escapes and `/bin/true` together): "
             + ", ".join(f"{n} {c}" for c, n in sysc["escapes"][1][:14]) + ".")
    L.append("")
if sysc.get("doas") and sysc["doas"][1]:
    L.append("doas for comparison: " + ", ".join(f"{n} {c}" for c, n in sysc["doas"][1][:10]) + ".")
    L.append("")

# --- observations drawn from this run's data ---------------------------------------------------
obs = []
fs_log = sh("findmnt", "-no", "FSTYPE", "-T", "/run/escapes-bench/log")
fs_big = sh("findmnt", "-no", "FSTYPE", "-T", "/var/lib/escapes-bench")


def once_wait():
    """The longest poll of the once row's strace -T in the process that talks to the IdP, and
    what it had sent just before."""
    lines = read(f"{OUT}/once-network.trace").splitlines()
    talkers = {ln.split()[0] for ln in lines if re.search(r"\b(connect|sendto)\(", ln)}
    best, sends, pending = None, [], []
    for ln in lines:
        if not ln.split() or ln.split()[0] not in talkers:
            continue
        if re.search(r"\bsendto\(", ln):
            n = re.search(r"\) = (\d+)", ln)
            pending.append(n.group(1) if n else "?")
        m = re.search(r"<([\d.]+)>$", ln)
        if m and re.search(r"\bpoll\b", ln) and "POLLIN" in ln:
            t = float(m.group(1)) * 1e3
            if best is None or t > best:
                best, sends = t, pending[:]
            pending = []
    if best is None:
        return ""
    nodelay = "TCP_NODELAY" in "\n".join(lines)
    txt = (f" In an `strace -f -T` of one run the longest wait is a {best:.1f} ms poll for the IdP's answer, right after"
           f" {len(sends)} send()s of {', '.join(sends)} bytes")
    if best > 35 and not nodelay and len(sends) > 1:
        txt += (" on a socket without TCP_NODELAY: Nagle holds the later small TLS records until the IdP's delayed ACK"
                " (40 ms on Linux). TCP_NODELAY, or one send per TLS flight, would remove that fixed wait.")
    else:
        txt += "."
    return txt


fsyncs = dict((n, c) for c, n in sysc.get("escapes", (None, []))[1]).get("fsync")
if fsyncs:
    obs.append(f"escapes fsyncs the audit log {fsyncs}× per run;"
               f" the bench's audit log is on `{fs_log or '?'}` (the 1 GiB one on `{fs_big or '?'}`), so that is a real disk flush"
               " and part of the wall time. doas, sudo and sudo-rs write nothing synchronously.")
if "escapes-once" in wall and esc_med:
    d = wall["escapes-once"]["median"] - esc_med
    if ir("escapes-once") and ir("escapes"):
        more = (f" Its instructions are only {(ir('escapes-once') - ir('escapes')) / 1e6:.1f} M more, so the time is waiting,"
                " not computing.")
    else:
        more = " (Instructions not compared: a callgrind run failed.)"
    obs.append(f"The once row costs {d:.1f} ms more than the offline row (median).{more}" + once_wait())
if "escapes-dynamic" in wall and esc_med:
    obs.append(f"static-pie (as shipped) vs the dynamic (LINK=dynamic) build: median {esc_med:.2f} vs {wall['escapes-dynamic']['median']:.2f} ms,"
               f" {num(sysc['escapes'][0])} vs {num(sysc['escapes-dynamic'][0])} syscalls, peak RSS {kib(peak['escapes'])} vs {kib(peak['escapes-dynamic'])}"
               + (f", {mio(ir('escapes'))} vs {mio(ir('escapes-dynamic'))} instructions" if ir('escapes') and ir('escapes-dynamic') else
                  ", instructions not comparable (a callgrind run failed)") + ".")
if obs:
    L += ["## Observations", ""] + [f"- {o}" for o in obs] + [""]

# --- notes ------------------------------------------------------------------------------------
notes = [n for n in read(f"{OUT}/notes.txt").splitlines() if n.strip()]
L += [
    "## How it was run",
    "",
    "- **Once row:** a fresh `once` grant per run, minted through the test IdP's admin endpoint by",
    "  hyperfine's `--prepare` (not timed), passed with `--grant-file`. escapes runs with `offline = false`",
    "  and the IdP's key pinned in `[keys]`, so each timed run does one TLS `/consume` round trip to",
    "  127.0.0.1 and no JWKS fetch. This build (static-pie too) has its own compiled-in config path.",
    "- **The other escapes rows:** `--grant <token>` on the command line, `offline = true`, pinned key.",
    "  The scaling rows swap the config file (compiled-in path, root-owned) between hyperfine invocations.",
    "- **doas/sudo/sudo-rs:** one NOPASSWD rule each for the bench user and `/bin/true`; Debian's default",
    "  `/etc/sudoers` otherwise (sudo-rs reads the same files). sudo-rs is built with",
    "  `cargo install sudo-rs --locked` into target/bench/sudo-rs.",
    "- **hyperfine** `-N` (no shell), run as the bench user; raw JSON in target/bench/results/hyperfine/.",
]
if notes:
    L += ["", "Notes from this run:", ""] + [f"- {n}" for n in notes]
L.append("")

with open(DEST, "w") as f:
    f.write("\n".join(L))
