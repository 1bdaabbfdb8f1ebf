#!/usr/bin/env bash
# Traces the network child (net::exchange) under strace against the test IdP, once per fault
# mode and name-resolution path, and checks what it does against audit/syscalls: every syscall
# before its seccomp filter must be listed `network-setup`, every one after it `network` (the
# list build.rs compiles into the filter). A child killed by SIGSYS, or an unlisted syscall,
# fails the check. Complements audit/check.sh, whose scenarios run offline.
#
# Run as root from the repository root, after `cargo build` (any profile) with
# ESCAPES_CONFIG_PATH=/run/escapes-test/etc/config.toml:
#   BIN=target/debug/escapes TESTIDP=target/debug/escapes-testidp MINT=target/debug/escapes-mint \
#       sh audit/network-trace.sh
# Exit 0: all listed; 1: something unlisted or a child killed; 2: setup went wrong.

if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "audit/network-trace.sh: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root"
: "${BIN:?BIN=path to an escapes built with the test config path}"
: "${TESTIDP:?TESTIDP=path to escapes-testidp}"
: "${MINT:?MINT=path to escapes-mint (tools/testkit)}"
list=${SYSCALL_LIST:-audit/syscalls}

# shellcheck source=audit/fixture.sh
. audit/fixture.sh
exec 9>>"$ROOT.lock"
flock 9
work=$(mktemp -d /tmp/escapes-nettrace.XXXXXX)
chmod 755 "$work"
idp_pid=
cleanup() {
    [ -n "$idp_pid" ] && kill "$idp_pid" 2>/dev/null || true
    if [ "${KEEP_TRACES:-0}" = 1 ]; then echo "traces kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
fixture_install "$BIN"
rm -rf "$ROOT/cache"

# run NAME ISSUER_HOST FAULT_JSON -- one online `once` grant through a fresh IdP.
run() {
    local name=$1 host=$2 fault=$3 d=$work/$1
    mkdir "$d"
    rm -rf "$ROOT/etc" "$ROOT/keys" "$ROOT/log" "$ROOT/cache"
    mkdir -p "$ROOT/etc" "$ROOT/log"; chmod 700 "$ROOT/log"
    local args=(serve --ca-out "$d/ca.pem" --port-file "$d/port" --admin-port-file "$d/admin" --issuer-host "$host" --seed "$SEED" --kid "$KID")
    [ -n "$fault" ] && args+=(--fault "$fault")
    "$TESTIDP" "${args[@]}" >"$d/idp.out" 2>&1 &
    idp_pid=$!
    for _ in $(seq 100); do [ -s "$d/admin" ] && [ -s "$d/port" ] && break; sleep 0.05; done
    [ -s "$d/port" ] || die "$name: the test IdP did not start"
    local issuer="https://$host:$(cat "$d/port")"
    [ "$name" = resolve-dns ] && issuer="https://escapes-nettrace.invalid:$(cat "$d/port")"
    write_root_file "$ROOT/etc/ca.pem" 644 <"$d/ca.pem"
    printf 'host = "%s"\naudit_log = "%s/log/audit.log"\n\n[security]\nallowed_issuers = ["%s"]\nallowed_approvers = ["%s"]\noffline = false\n\n[tls]\nca_bundle = "%s/etc/ca.pem"\n' \
        "$HOST" "$ROOT" "$issuer" "$APPROVER" "$ROOT" | write_root_file "$ROOT/etc/config.toml" 644
    local token now
    if [ "$name" = resolve-dns ]; then
        # A name that is not in /etc/hosts: UDP DNS to the resolv.conf nameservers, which fails.
        now=$(date +%s)
        token=$("$MINT" sign --seed "$SEED" --kid "$KID" --claims "$(printf '{"iss":"%s","sub":"%s","aud":"escapes","target_host":"%s","iat":%d,"exp":%d,"jti":"6f1c2d4e-0000-4000-8000-0000000000aa","grant_id":"0b7e4a52-0000-4000-8000-0000000000bb","grant_type":"always","approval":"always","decided_by":"%s","command":["/usr/bin/true"]}' \
            "$issuer" "$REQUESTER" "$HOST" "$now" $((now + 3600)) "$APPROVER")")
    else
        token=$("$TESTIDP" grant --admin-port-file "$d/admin" --type once --print token -- /usr/bin/true)
    fi
    local rc=0
    (cd / && env -i PATH=/usr/bin:/bin strace -ff -qq -o "$d/trace" -u "$USER_NAME" \
        "$ROOT/bin/escapes" --grant "$token" -- /usr/bin/true </dev/null >"$d/out" 2>"$d/err") || rc=$?
    kill "$idp_pid" 2>/dev/null || true; wait "$idp_pid" 2>/dev/null || true; idp_pid=
    printf '%-22s exit %-3s %s\n' "$name" "$rc" "$(head -c 150 "$d/err" | tr '\n' ' ')"
}

run ok-localhost localhost ''
run ok-ip 127.0.0.1 ''
run resolve-dns localhost ''
for f in wrong_ca wrong_host expired_cert close_on_accept close_after_handshake not_tls handshake_stall; do
    run "$f" localhost "{\"mode\":\"$f\"}"
done
for f in '{"mode":"truncated"}' '{"mode":"oversized","bytes":1048576}' '{"mode":"oversized","bytes":1048576,"chunked":true}' \
    '{"mode":"oversized_head"}' '{"mode":"content_length","kind":"duplicate"}' '{"mode":"content_length","kind":"larger"}' \
    '{"mode":"chunked","kind":"non_hex"}' '{"mode":"chunked","kind":"truncated"}' '{"mode":"chunked","kind":"valid"}' \
    '{"mode":"redirect"}' '{"mode":"status","code":500}' '{"mode":"raw","data":"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!"}' \
    '{"mode":"close_after_request"}' '{"mode":"slow","secs":30}' '{"mode":"drip","interval_ms":300}'; do
    name=$(printf '%s' "$f" | python3 -c 'import json,sys; v=json.load(sys.stdin); print("-".join(str(v[k]) for k in ("mode","kind","chunked") if k in v))')
    run "consume-$name" localhost "$(printf '%s' "$f" | python3 -c 'import json,sys; v=json.load(sys.stdin); v["path"]="/api/grants/"; print(json.dumps(v))')"
done

python3 -B - "$list" "$work" <<'PY'
import glob, os, re, sys
lst, work = sys.argv[1], sys.argv[2]
allowed = {}
for line in open(lst):
    s = line.split("#", 1)[0].split()
    if len(s) >= 2:
        allowed.setdefault(s[1], set()).add(s[0])
bad, killed, seen, children = [], [], {"network-setup": set(), "network": set()}, 0
for d in sorted(glob.glob(work + "/*/")):
    for p in glob.glob(d + "trace.*"):
        lines = open(p, errors="replace").read().splitlines()
        if not any("PR_SET_SECCOMP" in l for l in lines) and not any(l.startswith("+++ killed by SIGSYS") for l in lines):
            continue  # the parent, or the exec child
        if not any(l.startswith("setgroups(") for l in lines):
            # The parse child (sandbox.rs): audit/check.sh checks its list; here only that it lived.
            killed += [f"{os.path.basename(d[:-1])} (parse child): {l}" for l in lines if l.startswith("+++ killed by SIGSYS")]
            continue
        children += 1
        phase = "network-setup"
        for l in lines:
            if l.startswith("+++ killed by SIGSYS") or "--- SIGSYS" in l:
                killed.append(f"{os.path.basename(d[:-1])}: {l}")
            m = re.match(r"^([a-z_][a-z0-9_]*)\(", l)
            if not m:
                continue
            sc = m.group(1)
            seen[phase].add(sc)
            if sc not in allowed.get(phase, ()):
                bad.append(f"{os.path.basename(d[:-1])}: {sc} {phase}: {l[:140]}")
            if sc == "prctl" and "PR_SET_SECCOMP" in l:
                phase = "network"
for ph in ("network-setup", "network"):
    print(f"  {ph:<14} seen: {' '.join(sorted(seen[ph]))}")
    print(f"  {ph:<14} listed, not seen: {' '.join(sorted(allowed.get(ph, set()) - seen[ph]))}")
print(f"  {children} network children traced")
for b in bad:
    print("UNLISTED: " + b)
for k in killed:
    print("KILLED: " + k)
sys.exit(1 if bad or killed or not children else 0)
PY
