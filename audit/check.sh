#!/usr/bin/env bash
# Runs escapes through the end-to-end scenarios under strace and fails on any syscall that
# audit/syscalls does not list for the phase it was made in (see audit/SYSCALLS.md).
#
# Run as root from the repository root (`make audit-syscalls`). Uses the integration-test
# fixture under /run/escapes-test (audit/fixture.sh) and queues on the tests' lock file.
# Exit 0: all listed; 1: unlisted syscalls (each named); 2: setup or a scenario went wrong.
#
# Environment: CARGO (default cargo); KEEP_TRACES=1 keeps the trace directory and prints it;
# SYSCALL_LIST overrides the list checked against (used to demonstrate a failing check).

# `make audit-syscalls` runs `sh audit/check.sh`: hop to bash before using anything of bash's.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

cd "$(dirname "$0")/.."
here=audit
list=${SYSCALL_LIST:-$here/syscalls}
CARGO=${CARGO:-cargo}

die() { echo "audit/check.sh: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root (it installs a setuid binary and runs it as a test user)"
command -v strace >/dev/null || die "strace is not installed"
command -v python3 >/dev/null || die "python3 is not installed"
[ -f "$list" ] || die "no syscall list at $list"

# shellcheck source=audit/fixture.sh
. "$here/fixture.sh"
CONFIG_PATH=$ROOT/etc/config.toml
AUDIT_LOG=$ROOT/log/audit.log
DEFAULT_AUDIT_LOG=/var/log/openape/audit.log
BIN=$ROOT/bin/escapes

# Both link modes: the static binary `make install` ships (crt-static, static-pie, as the
# Makefile builds it) and the ordinary dynamic one (LINK=dynamic), whose loader adds its own
# start-up syscalls. Scenario names of the dynamic run end in "-dynamic".
triple=$(rustc -vV | sed -n 's/^host: //p')
echo "building escapes (ESCAPES_CONFIG_PATH=$CONFIG_PATH; static and dynamic) and escapes-mint" >&2
ESCAPES_CONFIG_PATH=$CONFIG_PATH RUSTFLAGS="-C target-feature=+crt-static" $CARGO build -q -p escapes --release --target "$triple"
ESCAPES_CONFIG_PATH=$CONFIG_PATH $CARGO build -q -p escapes --release
$CARGO build -q -p escapes-testkit --release --bin escapes-mint
target=${CARGO_TARGET_DIR:-target}
MINT=$target/release/escapes-mint
STATIC_BIN=$target/$triple/release/escapes
DYNAMIC_BIN=$target/release/escapes
[ -x "$STATIC_BIN" ] && [ -x "$DYNAMIC_BIN" ] && [ -x "$MINT" ] || die "build produced no binaries under $target"

# One user of the fixture at a time (the path is compiled in): the integration tests queue on
# the same lock file (tests/support/mod.rs).
exec 9>>"$ROOT.lock"
flock 9

work=$(mktemp -d /tmp/escapes-audit.XXXXXX)
chmod 755 "$work"
cleanup() {
    stop_logger
    fixture_reset "$MINT" >/dev/null 2>&1 || true
    rm -f "$ROOT/bin/audit-script" "$ROOT/bin/audit-noexec"
    if [ "${KEEP_TRACES:-0}" = 1 ]; then echo "traces kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

fixture_reset "$MINT"

now=$(date +%s)
# token ARGV_JSON [EXTRA_JSON_MEMBERS] -- an `always` grant for the test host, valid now.
token() {
    local claims
    claims=$(printf '{"iss":"%s","sub":"%s","aud":"escapes","target_host":"%s","iat":%d,"exp":%d,"jti":"6f1c2d4e-0000-4000-8000-000000000001","grant_id":"0b7e4a52-0000-4000-8000-000000000002","grant_type":"always","approval":"always","decided_by":"%s","command":%s%s}' \
        "$ISSUER" "$REQUESTER" "$HOST" "$now" $((now + 3600)) "$APPROVER" "$1" "${2:+,$2}")
    "$MINT" sign --seed "$SEED" --kid "$KID" --claims "$claims"
}

# Commands that live in the root-owned fixture: a script (execveat of a close-on-exec fd fails
# with ENOENT for scripts, so the child falls back to execve) and a file that cannot be executed.
printf '#!/bin/sh\nexit 0\n' | write_root_file "$ROOT/bin/audit-script" 755
printf 'not a program\n' | write_root_file "$ROOT/bin/audit-noexec" 755
# A script in a directory the caller owns: its name could be swapped, so it runs from its
# descriptor (/dev/fd/N) instead of by path.
mkdir -p "$work/caller" && printf '#!/bin/sh\nexit 0\n' > "$work/caller/script"
chmod 755 "$work/caller/script" && chown -R "$USER_NAME" "$work/caller"

# A system logger for the syslog scenario: whatever is at /dev/log is moved aside meanwhile.
logger_pid=
start_logger() {
    [ -e /dev/log ] || [ -L /dev/log ] && mv /dev/log /dev/log.escapes-audit-saved
    python3 -c 'import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("/dev/log"); os.chmod("/dev/log", 0o666)
while True: s.recv(1 << 17)' &
    logger_pid=$!
    for _ in $(seq 100); do [ -S /dev/log ] && return 0; sleep 0.05; done
    die "the test logger did not bind /dev/log"
}
stop_logger() {
    if [ -n "$logger_pid" ]; then
        kill "$logger_pid" 2>/dev/null || true
        wait "$logger_pid" 2>/dev/null || true
    fi
    logger_pid=
    rm -f /dev/log
    [ -e /dev/log.escapes-audit-saved ] || [ -L /dev/log.escapes-audit-saved ] && mv /dev/log.escapes-audit-saved /dev/log
    return 0
}

scenarios=()
failed=0
suffix=
# scenario NAME EXPECTED_EXIT STDIN_FILE ARGS... -- runs escapes as the test user under strace
# (AS_USER=root for the root-only modes).
scenario() {
    local name=$1$suffix want=$2 input=$3 rc=0 user=${AS_USER:-$USER_NAME}
    shift 3
    mkdir "$work/$name"
    (cd / && env -i PATH=/usr/bin:/bin LANG=C strace -ff -qq -o "$work/$name/trace" -u "$user" \
        "$BIN" "$@" <"$input" >"$work/$name.out" 2>"$work/$name.err") || rc=$?
    if [ "$rc" != "$want" ]; then
        echo "scenario $name: exit $rc, expected $want; stderr:" >&2
        sed 's/^/    /' "$work/$name.err" >&2
        failed=1
    fi
    scenarios+=("$name=$work/$name/trace")
}

all_scenarios() {
    t_true=$(token '["/usr/bin/true"]')
    scenario true 0 /dev/null --grant "$t_true" -- /usr/bin/true

    # The system-log copy (issue 15): a root-owned datagram socket at /dev/log takes the
    # records ([audit] syslog = "syslog"); the other scenarios run with the default "auto" and
    # no logger at all (the lookups fail, nothing is sent).
    start_logger
    printf '%s\n[audit]\nsyslog = "syslog"\n' "$DEFAULT_CONFIG" | write_root_file "$CONFIG_PATH" 644
    scenario syslog 0 /dev/null --grant "$t_true" -- /usr/bin/true
    printf '%s' "$DEFAULT_CONFIG" | write_root_file "$CONFIG_PATH" 644
    stop_logger

    printf '%s\n' "$t_true" >"$work/grant$suffix.stdin"
    scenario grant-stdin 0 "$work/grant$suffix.stdin" --grant-stdin -- /usr/bin/true

    grant_file=$work/grant$suffix.jwt
    printf '%s\n' "$t_true" >"$grant_file"
    chown "$USER_NAME:" "$grant_file"
    chmod 600 "$grant_file"
    scenario grant-file 0 /dev/null --grant-file "$grant_file" -- /usr/bin/true

    # A bare name, resolved through the safe PATH, run as another user.
    scenario run-as 0 /dev/null --grant "$(token '["id","-u"]')" --run-as "$OTHER_USER" -- id -u

    # The command signals escapes; escapes forwards it to the command (which ignores it).
    fwd="trap '' USR1; kill -USR1 \$PPID; sleep 0.2; exit 0"
    scenario forward-signal 0 /dev/null --grant "$(token "[\"sh\",\"-c\",\"$fwd\"]")" -- sh -c "$fwd"

    scenario script 0 /dev/null --grant "$(token "[\"$ROOT/bin/audit-script\"]")" -- "$ROOT/bin/audit-script"
    scenario caller-script 0 /dev/null --grant "$(token "[\"$work/caller/script\"]")" -- "$work/caller/script"
    # Through a symbolic link (merged /usr): the program's canonical name is walked and read.
    scenario symlinked 0 /dev/null --grant "$(token '["/bin/true"]')" -- /bin/true
    scenario exec-fails 126 /dev/null --grant "$(token "[\"$ROOT/bin/audit-noexec\"]")" -- "$ROOT/bin/audit-noexec"
    scenario not-found 127 /dev/null --grant "$(token '["escapes-no-such-command"]')" -- escapes-no-such-command

    # Tampered payload: someone else's claims under the original signature.
    t_evil=$(token '["/usr/bin/id"]')
    IFS=. read -r h _ s <<<"$t_true"
    IFS=. read -r _ p _ <<<"$t_evil"
    scenario tampered 5 /dev/null --grant "$h.$p.$s" -- /usr/bin/id

    chmod 664 "$CONFIG_PATH"
    scenario config-writable 1 /dev/null --grant "$t_true" -- /usr/bin/true
    chmod 644 "$CONFIG_PATH"

    scenario check 0 /dev/null --check --grant "$t_true" -- /usr/bin/true

    # --verify-log drops root first, so give it a copy the test user can read.
    cp "$AUDIT_LOG" "$work/audit$suffix.copy"
    chown "$USER_NAME:" "$work/audit$suffix.copy"
    scenario verify-log 0 /dev/null --verify-log "$work/audit$suffix.copy"
    # The same copy as a syslog file it is compared with (every line carries its JSON record).
    scenario verify-log-anchors 0 /dev/null --verify-log "$work/audit$suffix.copy" --anchors "$work/audit$suffix.copy"

    AS_USER=root scenario check-config 0 /dev/null --check-config

    scenario version 0 /dev/null --version
    scenario help 0 /dev/null --help
    scenario usage 1 /dev/null --grant "$t_true" /usr/bin/true

}

fixture_install "$STATIC_BIN"
suffix= all_scenarios
fixture_install "$DYNAMIC_BIN"
suffix=-dynamic
all_scenarios

[ "$failed" = 0 ] || die "a scenario did not behave as expected; its trace would not mean what it should"

dump=()
[ "${KEEP_TRACES:-0}" = 1 ] && dump=(--dump "$work/classified.tsv")
python3 -B "$here/phases.py" --list "$list" --binary "$BIN" --config-path "$CONFIG_PATH" \
    --audit-path "$AUDIT_LOG" --audit-path "$DEFAULT_AUDIT_LOG" --count-scenario true --count-scenario true-dynamic \
    "${dump[@]}" "${scenarios[@]}"
