#!/bin/sh
# The main job end to end, on a throwaway setup: an issuer key, a config and an audit directory
# under /run/escapes-demo, a setuid-root copy of escapes, and an unprivileged user who runs an
# approved command with a grant — and is refused with a tampered one. Run as root (make demo).
set -eu
cd "$(dirname "$0")/.."

ROOT=/run/escapes-demo
USER_NAME=escapes-demo
ISSUER=https://id.demo.example
APPROVER=admin@demo.example
export CARGO_TARGET_DIR="$PWD/target/demo"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "make demo must run as root (it installs a setuid binary)"; exit 1; }

say "Building escapes (config path compiled in: $ROOT/etc/config.toml) and the test minter"
ESCAPES_CONFIG_PATH=$ROOT/etc/config.toml ESCAPES_CACHE_DIR=$ROOT/cache cargo build --quiet --release --locked -p escapes
cargo build --quiet --release --locked -p escapes-testkit -p escapes-testidp
MINT=$CARGO_TARGET_DIR/release/escapes-mint
IDP=$CARGO_TARGET_DIR/release/escapes-testidp

id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$USER_NAME"

say "Throwaway issuer key, config and audit directory"
rm -rf "$ROOT"
install -d -o root -g root -m 0755 "$ROOT" "$ROOT/bin" "$ROOT/etc" "$ROOT/keys"
install -d -o root -g root -m 0700 "$ROOT/log"
SEED=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
KID="key-$(date +%s)000"
"$MINT" jwks --seed "$SEED" --kid "$KID" > "$ROOT/keys/issuer.jwks.json"
chmod 0644 "$ROOT/keys/issuer.jwks.json"
HOST=$(uname -n)
cat > "$ROOT/etc/config.toml" <<TOML
# escapes demo config
host = "$HOST"
audit_log = "$ROOT/log/audit.log"

[security]
allowed_issuers = ["$ISSUER"]
allowed_approvers = ["$APPROVER"]
offline = true

[keys]
"$ISSUER" = "$ROOT/keys/issuer.jwks.json"
TOML
chmod 0644 "$ROOT/etc/config.toml"
sed 's/^/    /' "$ROOT/etc/config.toml"

say "Installing a setuid-root copy"
install -o root -g root -m 4755 "$CARGO_TARGET_DIR/release/escapes" "$ROOT/bin/escapes"
ls -l "$ROOT/bin/escapes" | sed 's/^/    /'

grant() { # grant_type argv-json
    now=$(date +%s)
    "$MINT" sign --seed "$SEED" --kid "$KID" --claims "{\"iss\":\"$ISSUER\",\"sub\":\"agent+demo@demo.example\",\"aud\":\"escapes\",\"target_host\":\"$HOST\",\"iat\":$now,\"exp\":$((now + 3600)),\"jti\":\"demo-$now-$1\",\"grant_id\":\"demo-grant-$1\",\"grant_type\":\"$1\",\"decided_by\":\"$APPROVER\",\"command\":$2}"
}
as_user() { setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --clear-groups -- "$@"; }

TOKEN=$(grant always '["id","-un"]')
say "As $USER_NAME (uid $(id -u $USER_NAME)): escapes --grant <approved grant> -- id -un"
rc=0; as_user "$ROOT/bin/escapes" --grant "$TOKEN" -- id -un || rc=$?
echo "    exit code: $rc"
[ "$rc" = 0 ]

say "Same grant, different command: escapes --grant <grant> -- id -u"
rc=0; as_user "$ROOT/bin/escapes" --grant "$TOKEN" -- id -u || rc=$?
echo "    exit code: $rc (5 = verification failed; nothing ran)"
[ "$rc" = 5 ]

say "Tampered grant: payload swapped for one approving 'sh', signature kept"
HEADER=${TOKEN%%.*}; SIG=${TOKEN##*.}
EVIL=$(grant always '["sh"]'); EVIL_PAYLOAD=$(echo "$EVIL" | cut -d. -f2)
rc=0; as_user "$ROOT/bin/escapes" --grant "$HEADER.$EVIL_PAYLOAD.$SIG" -- sh -c 'echo pwned' || rc=$?
echo "    exit code: $rc"
[ "$rc" = 5 ]

say "A once grant needs the IdP to consume it first; offline it never runs"
rc=0; as_user "$ROOT/bin/escapes" --grant "$(grant once '["id","-un"]')" -- id -un || rc=$?
echo "    exit code: $rc"
[ "$rc" = 1 ]

say "Online: a test IdP over HTTPS on loopback (private CA), keys fetched, once grants consumed"
"$IDP" serve --ca-out "$ROOT/idp-ca.pem" --port-file "$ROOT/idp.port" --admin-port-file "$ROOT/idp.admin" >"$ROOT/idp.out" 2>&1 &
IDP_PID=$!
trap 'kill $IDP_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$ROOT/idp.admin" ] && break; sleep 0.1; done
[ -s "$ROOT/idp.admin" ] || { echo "test IdP did not start"; cat "$ROOT/idp.out"; exit 1; }
ONLINE_ISSUER="https://127.0.0.1:$(cat "$ROOT/idp.port")"
install -o root -g root -m 0644 "$ROOT/idp-ca.pem" "$ROOT/etc/idp-ca.pem"
cat > "$ROOT/etc/config.toml" <<TOML
host = "$HOST"
audit_log = "$ROOT/log/audit.log"

[security]
allowed_issuers = ["$ONLINE_ISSUER"]
allowed_approvers = ["admin@test.example"]
offline = false

[tls]
ca_bundle = "$ROOT/etc/idp-ca.pem"
TOML
echo "    issuer $ONLINE_ISSUER, no pinned keys, offline = false"
ONCE=$("$IDP" grant --admin-port-file "$ROOT/idp.admin" --type once --json "{\"target_host\":\"$HOST\"}" -- id -un)
say "A once grant, first use: the IdP consumes it, then it runs"
rc=0; as_user "$ROOT/bin/escapes" --grant "$ONCE" -- id -un || rc=$?
echo "    exit code: $rc"
[ "$rc" = 0 ]
say "The same once grant again: the IdP says already_consumed"
rc=0; as_user "$ROOT/bin/escapes" --grant "$ONCE" -- id -un || rc=$?
echo "    exit code: $rc"
[ "$rc" = 5 ]
say "An always grant revoked at the IdP after it was issued"
ALWAYS_ID=$("$IDP" grant --admin-port-file "$ROOT/idp.admin" --type always --print id --json "{\"target_host\":\"$HOST\"}" -- id -un)
ALWAYS=$("$IDP" call --admin-port-file "$ROOT/idp.admin" POST "/_test/grants/$ALWAYS_ID/token" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("token") or d.get("authz_jwt"))')
"$IDP" call --admin-port-file "$ROOT/idp.admin" POST "/_test/grants/$ALWAYS_ID/revoke" >/dev/null
rc=0; as_user "$ROOT/bin/escapes" --grant "$ALWAYS" -- id -un || rc=$?
echo "    exit code: $rc"
[ "$rc" = 5 ]

say "The audit log ($ROOT/log/audit.log): one JSON line per attempt, a run is recorded before exec"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    keys = ("event", "result", "error", "exit_code", "command", "key_source", "consume", "approver")
    print("    " + "  ".join(f"{k}={json.dumps(r[k])}" for k in keys if k in r))
' "$ROOT/log/audit.log"

"$ROOT/bin/escapes" --verify-log "$ROOT/log/audit.log" | sed 's/^/    /'

say "Demo done. Remove it with: rm -rf $ROOT && userdel $USER_NAME"
