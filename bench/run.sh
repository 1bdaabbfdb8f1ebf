#!/usr/bin/env bash
# `make bench`: escapes side by side with bare /bin/true, doas, sudo and sudo-rs on this machine,
# in one run, interleaved, as the same unprivileged user, running the same command /bin/true
# (timed at nice -20, every row alike, against the noise of other builds on the machine).
# Writes bench/RESULTS.md (bench/report.py) and prints it. Not a test: nothing here passes or
# fails on a number.
#
# Run as root from anywhere. It installs what it is missing (apt: sudo, opendoas, hyperfine,
# strace, valgrind, time, libpam0g-dev for building sudo-rs) and, for the length of the run only,
# a bench user, a NOPASSWD sudoers.d rule and doas rules for it, /run/escapes-bench and
# /var/lib/escapes-bench (the 1 GiB audit log). All of those are removed when it ends, and only
# those: a doas.conf that was already there keeps every line of its own.
#
# Environment:
#   BENCH_RUNS    timed runs per row, spread over the rounds (default 100; at least 10)
#   BENCH_ROUNDS  rounds; each round runs every row once in a rotated order (default 10)
#   BENCH_DYNAMIC 1 (default): also measure a dynamically linked (LINK=dynamic) build of escapes;
#                 0: skip. The main escapes rows are the static-pie build, as `make install` ships it.
#   BENCH_SUDO_RS 1 (default): build sudo-rs once with `cargo install` (about a minute here); 0: skip
#   BENCH_KEEP    1: leave the setup in place at the end (for poking at it by hand)
#   CARGO         default cargo
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
CARGO=${CARGO:-cargo}
RUNS=${BENCH_RUNS:-100}
ROUNDS=${BENCH_ROUNDS:-10}
WANT_DYNAMIC=${BENCH_DYNAMIC:-1}
WANT_SUDO_RS=${BENCH_SUDO_RS:-1}

ROOT=/run/escapes-bench
BIGDIR=/var/lib/escapes-bench
U=escapes-bench
MARK="escapes-bench"           # tags every doas.conf line and the user's GECOS as ours
GECOS="escapes bench (bench/run.sh), removed when it ends"
SUDOERS=/etc/sudoers.d/escapes-bench
DOAS_CONF=/etc/doas.conf
TB=$REPO/target/bench          # all bench build output, apart from the normal target/
OUT=$TB/results                # raw measurements (hyperfine JSON, strace, time -v, callgrind)
ISSUER=https://id.bench.example
APPROVER=admin@bench.example
HOST=benchhost
SAFE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { echo "bench/run.sh: $*" >&2; exit 1; }
note() { printf '%s\n' "$*" >>"$OUT/notes.txt"; echo "   note: $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (make bench): it installs setuid copies and a bench user"
[ "$RUNS" -ge 10 ] 2>/dev/null || die "BENCH_RUNS must be a number >= 10"
[ "$ROUNDS" -ge 1 ] 2>/dev/null || die "BENCH_ROUNDS must be a number >= 1"
PER_ROUND=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
[ "$PER_ROUND" -ge 2 ] || PER_ROUND=2

mkdir -p "$TB"
exec 8>>"$TB/bench.lock"
flock -n 8 || die "another bench run holds $TB/bench.lock"

# --- tools ------------------------------------------------------------------------------------
need=()
command -v sudo >/dev/null || need+=(sudo)
command -v doas >/dev/null || need+=(opendoas)
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v strace >/dev/null || need+=(strace)
command -v valgrind >/dev/null || need+=(valgrind)
command -v callgrind_annotate >/dev/null || need+=(valgrind)
[ -x /usr/bin/time ] || need+=(time)
command -v python3 >/dev/null || need+=(python3)
command -v strip >/dev/null || need+=(binutils)
if [ "$WANT_SUDO_RS" = 1 ] && [ ! -x "$TB/sudo-rs/bin/sudo" ] && ! dpkg -s libpam0g-dev >/dev/null 2>&1; then
    need+=(libpam0g-dev)
fi
if [ ${#need[@]} -gt 0 ]; then
    say "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null; } ||
        die "apt-get install ${need[*]} failed"
fi

# --- setup and its removal --------------------------------------------------------------------
IDP_PID=
cleanup() {
    set +e
    [ -n "$IDP_PID" ] && kill "$IDP_PID" 2>/dev/null && wait "$IDP_PID" 2>/dev/null
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "BENCH_KEEP=1: left $ROOT, $BIGDIR, $SUDOERS, the $MARK lines of $DOAS_CONF and user $U in place" >&2
        return
    fi
    remove_setup
}
remove_setup() {
    mountpoint -q "$ROOT/tmpfs" && umount "$ROOT/tmpfs"
    rm -rf "$ROOT" "$BIGDIR"
    rm -f "$SUDOERS"
    if [ -f "$DOAS_CONF" ] && grep -q "$MARK" "$DOAS_CONF"; then
        sed -i "/$MARK/d" "$DOAS_CONF"
        # The file was ours alone (its header carried the mark): nothing of anyone else's is left.
        grep -q '[^[:space:]]' "$DOAS_CONF" || rm -f "$DOAS_CONF"
    fi
    if getent passwd "$U" | cut -d: -f5 | grep -q "^escapes bench"; then
        userdel "$U" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
remove_setup # leftovers of a run that was killed: only what carries our mark

mkdir -p "$OUT"
rm -rf "${OUT:?}"/*
: >"$OUT/notes.txt"
uptime >"$OUT/load-start.txt"

if ! id "$U" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --comment "$GECOS" "$U"
elif ! getent passwd "$U" | cut -d: -f5 | grep -q "^escapes bench"; then
    die "a user $U exists that this script did not create; not touching it"
fi
printf '%s ALL=(root) NOPASSWD: /bin/true\n' "$U" >"$SUDOERS.tmp"
chmod 0440 "$SUDOERS.tmp"
visudo -cqf "$SUDOERS.tmp" || die "the sudoers rule does not parse"
mv "$SUDOERS.tmp" "$SUDOERS"
[ -e "$DOAS_CONF" ] || { echo "# $MARK: created by bench/run.sh, removed when it ends" >"$DOAS_CONF"; chmod 0600 "$DOAS_CONF"; }
{
    echo "permit nopass $U as root cmd /bin/true # $MARK"
    echo "permit nopass root as root cmd /bin/true # $MARK"  # callgrind runs a non-setuid doas as root
} >>"$DOAS_CONF"

# --- builds -----------------------------------------------------------------------------------
# Unstripped (symbols for callgrind_annotate); the timed copies are stripped, which is the same
# code. Each build (compiled-in config path, static or dynamic, with or without the `valgrind`
# feature) has its own target dir so a second run rebuilds nothing.
#
# The escapes rows measure what `make build`/`install`/`deb` ship: crt-static (static-pie),
# built for the host triple with --target. The `valgrind` builds are used only for the
# non-setuid copies callgrind runs: that feature adds valgrind's own syscalls to the seccomp
# allow-lists of the confined parse and network children (build.rs), which would otherwise be
# killed under valgrind. The timed, strace and RSS runs use the featureless builds.
build() { # TARGET_DIR CONFIG_PATH [cargo args...]
    local dir=$1 cfg=$2
    shift 2
    ESCAPES_CONFIG_PATH=$cfg ESCAPES_CACHE_DIR=$ROOT/cache CARGO_PROFILE_RELEASE_STRIP=false \
        CARGO_TARGET_DIR=$dir "$CARGO" build -q --release --locked "$@"
}
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
[ -n "$TRIPLE" ] || die "rustc -vV names no host triple"
static_build() { # TARGET_DIR CONFIG_PATH [cargo args...]: crt-static, as `make build` does it
    RUSTFLAGS="-C target-feature=+crt-static" build "$@" --target "$TRIPLE"
}
is_static() { local h; h=$(readelf -lW "$1" && readelf -dW "$1") || return 1; ! grep -qE 'INTERP|\(NEEDED\)' <<<"$h"; }
say "building escapes-mint, escapes-testidp"
build "$TB/cargo" "$ROOT/etc/config.toml" -p escapes-testkit -p escapes-testidp
say "building escapes, static-pie (config $ROOT/etc/config.toml), and its --features valgrind copy"
static_build "$TB/cargo-static" "$ROOT/etc/config.toml" -p escapes
static_build "$TB/cargo-static-vg" "$ROOT/etc/config.toml" -p escapes --features valgrind
say "building escapes for the once row, static-pie (config $ROOT/etc/online.toml), and its --features valgrind copy"
static_build "$TB/cargo-online" "$ROOT/etc/online.toml" -p escapes
static_build "$TB/cargo-online-vg" "$ROOT/etc/online.toml" -p escapes --features valgrind
ESC=$TB/cargo-static/$TRIPLE/release/escapes
ESC_VG=$TB/cargo-static-vg/$TRIPLE/release/escapes
ONL=$TB/cargo-online/$TRIPLE/release/escapes
ONL_VG=$TB/cargo-online-vg/$TRIPLE/release/escapes
for f in "$ESC" "$ESC_VG" "$ONL" "$ONL_VG"; do is_static "$f" || die "$f is not static (INTERP or NEEDED in readelf)"; done
MINT=$TB/cargo/release/escapes-mint
IDP=$TB/cargo/release/escapes-testidp
HAVE_DYNAMIC=0
if [ "$WANT_DYNAMIC" = 1 ]; then
    say "building a dynamically linked (LINK=dynamic) escapes, same config path, and its --features valgrind copy"
    if build "$TB/cargo" "$ROOT/etc/config.toml" -p escapes 2>"$OUT/dynamic-build.log" &&
        build "$TB/cargo-vg" "$ROOT/etc/config.toml" -p escapes --features valgrind 2>>"$OUT/dynamic-build.log"; then
        HAVE_DYNAMIC=1
    else
        note "escapes-dynamic skipped: the dynamic build failed ($(tail -n 1 "$OUT/dynamic-build.log"))"
    fi
else
    note "escapes-dynamic skipped: BENCH_DYNAMIC=0"
fi
HAVE_SUDO_RS=0
if [ "$WANT_SUDO_RS" = 1 ]; then
    if [ ! -x "$TB/sudo-rs/bin/sudo" ]; then
        say "cargo install sudo-rs --locked (once; kept in $TB/sudo-rs)"
        timeout 600 "$CARGO" install -q sudo-rs --locked --root "$TB/sudo-rs" --target-dir "$TB/sudo-rs-build" 2>"$OUT/sudo-rs-build.log" ||
            note "sudo-rs skipped: cargo install sudo-rs failed or took over 10 minutes ($(tail -n 1 "$OUT/sudo-rs-build.log"))"
    fi
    [ -x "$TB/sudo-rs/bin/sudo" ] && HAVE_SUDO_RS=1
else
    note "sudo-rs skipped: BENCH_SUDO_RS=0"
fi

# --- fixture ----------------------------------------------------------------------------------
say "fixture under $ROOT"
install -d -o root -g root -m 0755 "$ROOT" "$ROOT/bin" "$ROOT/etc" "$ROOT/etc/variants" "$ROOT/keys" "$ROOT/keys/many" "$ROOT/run"
install -d -o root -g root -m 0700 "$ROOT/log" "$ROOT/cache"
install -d -o "$U" -g "$U" -m 0700 "$ROOT/u"   # the bench user's files: once grants, hyperfine JSON
install -d -o root -g root -m 0700 "$BIGDIR"
B=$ROOT/bin
install -o root -g root -m 4755 -s "$ESC" "$B/escapes"
install -o root -g root -m 4755 -s "$ONL" "$B/escapes-online"
# Non-setuid copies for valgrind, run as root (valgrind refuses setuid files). Unstripped, and
# for escapes the `valgrind` feature builds (longer seccomp allow-lists, nothing else).
install -o root -g root -m 0755 "$ESC_VG" "$B/escapes-nosuid"
install -o root -g root -m 0755 "$ONL_VG" "$B/escapes-online-nosuid"
install -o root -g root -m 0755 /usr/bin/doas "$B/doas-nosuid"
install -o root -g root -m 0755 /usr/bin/sudo "$B/sudo-nosuid"
if [ "$HAVE_DYNAMIC" = 1 ]; then
    install -o root -g root -m 4755 -s "$TB/cargo/release/escapes" "$B/escapes-dynamic"
    install -o root -g root -m 0755 "$TB/cargo-vg/release/escapes" "$B/escapes-dynamic-nosuid"
fi
if [ "$HAVE_SUDO_RS" = 1 ]; then
    install -o root -g root -m 4755 "$TB/sudo-rs/bin/sudo" "$B/sudo-rs"
    install -o root -g root -m 0755 "$TB/sudo-rs/bin/sudo" "$B/sudo-rs-nosuid"
fi

rand_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
write_root() { # PATH: stdin to a root-owned 0644 file, replaced atomically
    cat >"$1.tmp.$$"
    chown root:root "$1.tmp.$$"
    chmod 0644 "$1.tmp.$$"
    mv -f "$1.tmp.$$" "$1"
}
SEED=$(rand_hex)
KID="key-bench-$(date +%s)"
"$MINT" jwks --seed "$SEED" --kid "$KID" | write_root "$ROOT/keys/issuer.jwks.json"

# config NAME AUDIT_LOG APPROVERS_TOML ISSUERS_TOML KEYS_TOML
config() {
    printf '# escapes bench config (%s)\nhost = "%s"\naudit_log = "%s"\n\n[security]\nallowed_issuers = [%s]\nallowed_approvers = [%s]\noffline = true\n\n[keys]\n%s\n' \
        "$1" "$HOST" "$2" "$4" "$3" "$5" | write_root "$ROOT/etc/variants/$1.toml"
}
config base "$ROOT/log/audit.log" "\"$APPROVER\"" "\"$ISSUER\"" "\"$ISSUER\" = \"$ROOT/keys/issuer.jwks.json\""
# The same, with the audit log on a private tmpfs: the fsyncs cost nothing there, which shows how
# much of escapes' time is the disk flush.
HAVE_TMPFS=0
install -d -o root -g root -m 0700 "$ROOT/tmpfs"
if mount -t tmpfs -o size=64m,mode=0700 escapes-bench "$ROOT/tmpfs" 2>/dev/null; then
    HAVE_TMPFS=1
    config tmpfslog "$ROOT/tmpfs/audit.log" "\"$APPROVER\"" "\"$ISSUER\"" "\"$ISSUER\" = \"$ROOT/keys/issuer.jwks.json\""
else
    note "esc-tmpfslog skipped: could not mount a tmpfs for the audit log"
fi
use_config() { cp "$ROOT/etc/variants/$1.toml" "$ROOT/etc/config.toml.tmp" && mv -f "$ROOT/etc/config.toml.tmp" "$ROOT/etc/config.toml"; }
use_config base

now=$(date +%s)
claims() { # GRANT_TYPE ISSUER [EXTRA_MEMBERS]
    printf '{"iss":"%s","sub":"agent+bench@bench.example","aud":"escapes","target_host":"%s","iat":%d,"exp":%d,"jti":"bench-%s","grant_id":"bench-grant","grant_type":"%s","decided_by":"%s","command":["/bin/true"]%s}' \
        "$2" "$HOST" "$now" $((now + 86400)) "$(rand_hex | cut -c1-16)" "$1" "$APPROVER" "${3:+,$3}"
}
TOK=$("$MINT" sign --seed "$SEED" --kid "$KID" --claims "$(claims always "$ISSUER")")

# The test IdP for the once row: HTTPS on loopback, its key pinned in [keys] (so the row pays
# for the /consume round trip, not for a JWKS fetch).
say "starting the test IdP"
IDP_SEED=$(rand_hex)
IDP_KID=key-idp-bench
"$IDP" serve --ca-out "$ROOT/etc/ca.pem" --port-file "$ROOT/run/port" --admin-port-file "$ROOT/run/aport" \
    --seed "$IDP_SEED" --kid "$IDP_KID" >"$OUT/idp.log" 2>&1 &
IDP_PID=$!
for _ in $(seq 100); do [ -s "$ROOT/run/aport" ] && [ -s "$ROOT/run/port" ] && break; sleep 0.1; done
[ -s "$ROOT/run/aport" ] || die "the test IdP did not start: $(cat "$OUT/idp.log")"
chmod 0644 "$ROOT/etc/ca.pem" "$ROOT/run/aport" "$ROOT/run/port"
IDP_ISSUER=https://127.0.0.1:$(cat "$ROOT/run/port")
"$MINT" jwks --seed "$IDP_SEED" --kid "$IDP_KID" | write_root "$ROOT/keys/idp.jwks.json"
printf '# escapes bench config for the once row\nhost = "testhost"\naudit_log = "%s"\n\n[security]\nallowed_issuers = ["%s"]\nallowed_approvers = ["admin@test.example"]\noffline = false\n\n[tls]\nca_bundle = "%s"\n\n[keys]\n"%s" = "%s"\n' \
    "$ROOT/log/online.log" "$IDP_ISSUER" "$ROOT/etc/ca.pem" "$IDP_ISSUER" "$ROOT/keys/idp.jwks.json" | write_root "$ROOT/etc/online.toml"
ONCE_FILE=$ROOT/u/once.jwt
ONCE_PREP="sh -c '$IDP grant --admin-port-file $ROOT/run/aport --type once -- /bin/true >$ONCE_FILE'"

# --- scaling fixtures -------------------------------------------------------------------------
say "scaling fixtures: token at the size cap, approvers, 100 pinned keys, 100 issuers"
# A token of exactly 16 KiB (the cap), padded with an unknown claim escapes ignores.
tok_len() { "$MINT" sign --seed "$SEED" --kid "$KID" --claims "$(claims always "$ISSUER" "\"pad\":\"$(head -c "$1" /dev/zero | tr '\0' x)\"")"; }
pad=$(( (16384 - ${#TOK}) * 3 / 4 + 2 ))
BIGTOK=$(tok_len "$pad")
while [ ${#BIGTOK} -gt 16384 ]; do pad=$((pad - 1)); BIGTOK=$(tok_len "$pad"); done
echo "${#BIGTOK}" >"$OUT/bigtoken.len"

# 10,000 allowed approvers (ours last). escapes caps its config at 64 KiB: if the 10,000 do not
# fit, that is reported, and the row measures as many as fit under the cap instead.
approvers() { # N -> the TOML array body, ours last
    python3 -c 'import sys; n=int(sys.argv[1]); print(",\n  ".join([f"\"approver-{i:05d}@bench.example\"" for i in range(n-1)] + [f"\"{sys.argv[2]}\""]))' "$1" "$APPROVER"
}
config approvers10k "$ROOT/log/audit.log" "$(approvers 10000)" "\"$ISSUER\"" "\"$ISSUER\" = \"$ROOT/keys/issuer.jwks.json\""
stat -c %s "$ROOT/etc/variants/approvers10k.toml" >"$OUT/approvers10k.size"
use_config approvers10k
rc=0
(cd / && env -i PATH=$SAFE_PATH setpriv --reuid="$U" --regid="$U" --clear-groups "$B/escapes" --grant "$TOK" -- /bin/true) \
    >/dev/null 2>"$OUT/approvers10k.err" || rc=$?
echo "$rc" >"$OUT/approvers10k.rc"
use_config base
if [ "$rc" = 0 ]; then
    APPROVERS_N=10000
else
    lo=1 hi=10000
    while [ $lo -lt $hi ]; do
        mid=$(( (lo + hi + 1) / 2 ))
        config probe "$ROOT/log/audit.log" "$(approvers $mid)" "\"$ISSUER\"" "\"$ISSUER\" = \"$ROOT/keys/issuer.jwks.json\""
        if [ "$(stat -c %s "$ROOT/etc/variants/probe.toml")" -le 65536 ]; then lo=$mid; else hi=$((mid - 1)); fi
    done
    rm -f "$ROOT/etc/variants/probe.toml"
    APPROVERS_N=$lo
fi
config approvers "$ROOT/log/audit.log" "$(approvers "$APPROVERS_N")" "\"$ISSUER\"" "\"$ISSUER\" = \"$ROOT/keys/issuer.jwks.json\""
echo "$APPROVERS_N $(stat -c %s "$ROOT/etc/variants/approvers.toml")" >"$OUT/approvers.n"

# 100 pinned keys in one JWKS, the token's kid last; and 100 issuers with one JWKS file each,
# the token's issuer last.
keys=()
for i in $(seq -w 1 99); do keys+=("$("$MINT" jwks --seed "$(rand_hex)" --kid "key-other-$i")"); done
keys+=("$(cat "$ROOT/keys/issuer.jwks.json")")
printf '%s\n' "${keys[@]}" | python3 -c 'import json,sys; print(json.dumps({"keys":[k for l in sys.stdin for k in json.loads(l)["keys"]]}, separators=(",",":")))' |
    write_root "$ROOT/keys/keys100.jwks.json"
config keys100 "$ROOT/log/audit.log" "\"$APPROVER\"" "\"$ISSUER\"" "\"$ISSUER\" = \"$ROOT/keys/keys100.jwks.json\""
iss_list="" key_list=""
for i in $(seq -w 1 99); do
    printf '%s\n' "${keys[$((10#$i - 1))]}" | write_root "$ROOT/keys/many/id$i.jwks.json"
    iss_list+="\"https://id$i.bench.example\", "
    key_list+="\"https://id$i.bench.example\" = \"$ROOT/keys/many/id$i.jwks.json\""$'\n'
done
config issuers100 "$ROOT/log/audit.log" "\"$APPROVER\"" "$iss_list\"$ISSUER\"" "$key_list\"$ISSUER\" = \"$ROOT/keys/issuer.jwks.json\""
stat -c %s "$ROOT/keys/keys100.jwks.json" >"$OUT/keys100.size"

# --- rows -------------------------------------------------------------------------------------
ROWS=(true escapes)
[ "$HAVE_DYNAMIC" = 1 ] && ROWS+=(escapes-dynamic)
ROWS+=(escapes-once doas sudo)
[ "$HAVE_SUDO_RS" = 1 ] && ROWS+=(sudo-rs)
ROWS+=(esc-log1g esc-approvers esc-token16k esc-keys100 esc-issuers100)
[ "$HAVE_TMPFS" = 1 ] && ROWS+=(esc-tmpfslog)

cmd_of() { # ROW user|root -> the command line (words without spaces or quotes)
    local s=
    [ "$2" = root ] && s=-nosuid
    case $1 in
        true) echo "/bin/true" ;;
        escapes | esc-log1g | esc-approvers | esc-keys100 | esc-issuers100 | esc-tmpfslog) echo "$B/escapes$s --grant $TOK -- /bin/true" ;;
        esc-token16k) echo "$B/escapes$s --grant $BIGTOK -- /bin/true" ;;
        escapes-dynamic) echo "$B/escapes-dynamic$s --grant $TOK -- /bin/true" ;;
        escapes-once) echo "$B/escapes-online$s --grant-file $ONCE_FILE -- /bin/true" ;;
        doas) if [ "$2" = root ]; then echo "$B/doas-nosuid -n /bin/true"; else echo "/usr/bin/doas -n /bin/true"; fi ;;
        sudo) if [ "$2" = root ]; then echo "$B/sudo-nosuid -n /bin/true"; else echo "/usr/bin/sudo -n /bin/true"; fi ;;
        sudo-rs) echo "$B/sudo-rs$s -n /bin/true" ;;
    esac
}
config_of() {
    case $1 in
        esc-log1g) echo log1g ;;
        esc-approvers) echo approvers ;;
        esc-keys100) echo keys100 ;;
        esc-issuers100) echo issuers100 ;;
        esc-tmpfslog) echo tmpfslog ;;
        *) echo base ;;
    esac
}
as_nice() { (cd / && nice -n -20 env -i PATH=$SAFE_PATH LANG=C.UTF-8 HOME=/nonexistent setpriv --reuid="$U" --regid="$U" --clear-groups "$@"); }
as_user() { (cd / && env -i PATH=$SAFE_PATH LANG=C.UTF-8 HOME=/nonexistent setpriv --reuid="$U" --regid="$U" --clear-groups "$@"); }
prepare() { [ "$1" != escapes-once ] || as_user sh -c "$IDP grant --admin-port-file $ROOT/run/aport --type once -- /bin/true >$ONCE_FILE"; }

# Every row once, as the bench user, before anything is measured: a row that fails is a setup
# problem, shown here and not as a hyperfine error later.
say "sanity: every row once as $U"
check_row() {
    local row=$1 rc=0 cmd
    use_config "$(config_of "$row")"
    prepare "$row"
    read -ra cmd <<<"$(cmd_of "$row" user)"
    as_user "${cmd[@]}" >"$OUT/sanity.$row.out" 2>&1 || rc=$?
    use_config base
    if [ "$rc" != 0 ]; then
        echo "row $row: exit $rc" >&2
        sed 's/^/    /' "$OUT/sanity.$row.out" >&2
        return 1
    fi
}
ok_rows=()
for row in "${ROWS[@]}"; do
    [ "$row" = esc-log1g ] && { ok_rows+=("$row"); continue; }   # its log is made below
    if check_row "$row"; then
        ok_rows+=("$row")
    else
        case $row in
            sudo-rs | escapes-dynamic) note "$row skipped: it failed its sanity run (exit code and output in target/bench/results/sanity.$row.out)" ;;
            *) die "row $row does not run; see above" ;;
        esac
    fi
done
ROWS=("${ok_rows[@]}")

# The 1 GiB audit log: real audit lines (escapes reads only the last one, for the hash chain),
# written with yes|head, on disk, not tmpfs. It must not make a run slower.
say "writing a 1 GiB audit log to $BIGDIR (real lines, not sparse)"
LINE=$(tail -n 1 "$ROOT/log/audit.log")
n=$(( (1 << 30) / (${#LINE} + 1) ))
{ yes -- "$LINE" || true; } | head -n "$n" >"$BIGDIR/audit.log"
chmod 0600 "$BIGDIR/audit.log"
sync "$BIGDIR/audit.log"
stat -c %s "$BIGDIR/audit.log" >"$OUT/log1g.size"
config log1g "$BIGDIR/audit.log" "\"$APPROVER\"" "\"$ISSUER\"" "\"$ISSUER\" = \"$ROOT/keys/issuer.jwks.json\""
check_row esc-log1g || die "row esc-log1g does not run"

printf '%s\n' "${ROWS[@]}" >"$OUT/rows.txt"
{
    echo "true	/bin/true"
    echo "escapes	$B/escapes"
    echo "escapes-once	$B/escapes-online"
    [ "$HAVE_DYNAMIC" = 1 ] && echo "escapes-dynamic	$B/escapes-dynamic"
    echo "doas	/usr/bin/doas"
    echo "sudo	/usr/bin/sudo"
    [ "$HAVE_SUDO_RS" = 1 ] && echo "sudo-rs	$B/sudo-rs"
} >"$OUT/binaries.tsv"
{
    echo "runs=$RUNS rounds=$ROUNDS per_round=$PER_ROUND"
    echo "approvers_n=$APPROVERS_N"
    echo "unstripped=$ESC"
} >"$OUT/params.txt"

# --- wall time: hyperfine, interleaved in rounds, each round in a rotated order -------------------
# At nice -20 (all rows alike): the other engineers' nice-0 builds on these 2 vCPUs otherwise
# delay a freshly forked process by a whole scheduler tick (4 ms) at random.
say "wall time: $ROUNDS rounds x $PER_ROUND runs per row (${#ROWS[@]} rows), hyperfine as $U at nice -20"
mkdir -p "$OUT/hyperfine"
head -n 1 /proc/stat >"$OUT/stat-start.txt"
nrows=${#ROWS[@]}
for ((r = 0; r < ROUNDS; r++)); do
    for ((k = 0; k < nrows; k++)); do
        row=${ROWS[$(( (k + r) % nrows ))]}
        use_config "$(config_of "$row")"
        prep=()
        [ "$row" = escapes-once ] && prep=(--prepare "$ONCE_PREP")
        as_nice hyperfine -N --style none --warmup 2 --runs "$PER_ROUND" "${prep[@]}" \
            --export-json "$ROOT/u/hf.json" -n "$row" "$(cmd_of "$row" user)" >/dev/null 2>>"$OUT/hyperfine.log" ||
            die "hyperfine failed on row $row (see $OUT/hyperfine.log)"
        cp "$ROOT/u/hf.json" "$OUT/hyperfine/$row.$r.json"
    done
    printf '   round %d/%d done\n' $((r + 1)) "$ROUNDS" >&2
done
head -n 1 /proc/stat >"$OUT/stat-end.txt"
use_config base

# --- syscalls including the child: strace -f -c -u, as root --------------------------------------
say "syscalls (strace -f -c -u $U)"
mkdir -p "$OUT/strace"
for row in "${ROWS[@]}"; do
    use_config "$(config_of "$row")"
    prepare "$row"
    read -ra cmd <<<"$(cmd_of "$row" user)"
    (cd / && env -i PATH=$SAFE_PATH LANG=C.UTF-8 HOME=/nonexistent strace -f -c -o "$OUT/strace/$row.txt" -u "$U" "${cmd[@]}") >/dev/null 2>&1 ||
        note "strace of $row exited non-zero"
done
# Where the once row waits: its network syscalls with their durations.
if [[ " ${ROWS[*]} " == *" escapes-once "* ]]; then
    prepare escapes-once
    read -ra cmd <<<"$(cmd_of escapes-once user)"
    (cd / && env -i PATH=$SAFE_PATH LANG=C.UTF-8 HOME=/nonexistent strace -f -T -e trace=%network,poll,fsync -o "$OUT/once-network.trace" -u "$U" "${cmd[@]}") >/dev/null 2>&1 || true
fi
use_config base

# --- peak RSS: /usr/bin/time -v as the bench user, 5 runs ----------------------------------------
say "peak RSS (/usr/bin/time -v, 5 runs each)"
mkdir -p "$OUT/rss"
for row in "${ROWS[@]}"; do
    use_config "$(config_of "$row")"
    read -ra cmd <<<"$(cmd_of "$row" user)"
    for i in 1 2 3 4 5; do
        prepare "$row"
        as_user /usr/bin/time -v -o "$ROOT/u/time.txt" "${cmd[@]}" >/dev/null 2>&1 || note "time -v of $row exited non-zero"
        cp "$ROOT/u/time.txt" "$OUT/rss/$row.$i.txt"
    done
done
use_config base

# --- instructions: callgrind on the non-setuid copies, as root, twice (repeatability) -------------
# escapes' copies here are the `--features valgrind` builds (see the builds above). A run that
# exits non-zero measured a failed run: its exit code goes to $d/exit and the report marks the
# row's instructions invalid instead of printing them as a result.
say "instructions (valgrind --tool=callgrind --trace-children=no, non-setuid copies as root, 2 runs each)"
mkdir -p "$OUT/callgrind"
CG_FAILED=()
for row in "${ROWS[@]}"; do
    use_config "$(config_of "$row")"
    read -ra cmd <<<"$(cmd_of "$row" root)"
    for i in 1 2; do
        d=$OUT/callgrind/$row.$i
        mkdir -p "$d"
        prepare "$row"
        rc=0
        (cd / && env -i PATH=$SAFE_PATH LANG=C.UTF-8 HOME=/root valgrind --tool=callgrind --trace-children=no \
            --dump-before='*fork' --callgrind-out-file="$d/callgrind.out.%p" "${cmd[@]}") >"$d/stdout" 2>"$d/valgrind.log" || rc=$?
        echo "$rc" >"$d/exit"
        if [ "$rc" != 0 ]; then
            note "callgrind of $row run $i exited $rc: its instruction count is of a failed run and is reported as invalid (see target/bench/results/callgrind/$row.$i/valgrind.log)"
            CG_FAILED+=("$row.$i")
        fi
    done
done
use_config base
uptime >"$OUT/load-end.txt"
tail -n 2 "$ROOT/log/audit.log" >"$OUT/audit-tail.txt"

# --- the report -------------------------------------------------------------------------------
python3 -B bench/report.py "$OUT" bench/RESULTS.md
cat bench/RESULTS.md
if [ ${#CG_FAILED[@]} -gt 0 ]; then
    printf '\033[1;31m== callgrind FAILED for %s: those instruction counts are marked invalid in bench/RESULTS.md\033[0m\n' "${CG_FAILED[*]}" >&2
    exit 1
fi
