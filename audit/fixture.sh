#!/usr/bin/env bash
# The end-to-end test fixture, in shell: the same users, directories, modes, config and pinned
# key that tests/support/mod.rs creates, for audit/check.sh (and anyone who wants to run the
# installed binary by hand). Must run as root.
#
#   audit/fixture.sh install BIN     # users + setuid-root copy of BIN at $ROOT/bin/escapes
#   audit/fixture.sh reset MINT      # default config, pinned key, empty audit log
#
# Or source it and call fixture_install / fixture_reset / write_root_file.
# Keep in step with tests/support/mod.rs (ROOT, USER, OTHER_USER, SEED, KID, DEFAULT_CONFIG).

ROOT=/run/escapes-test
USER_NAME=escapes-test
OTHER_USER=escapes-other
SEED=9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
KID=key-1
ISSUER=https://id.test.example
APPROVER=admin@test.example
REQUESTER=agent+deploy@test.example
HOST=testhost

DEFAULT_CONFIG='# escapes integration test config
host = "testhost"
audit_log = "/run/escapes-test/log/audit.log"

[security]
allowed_issuers = ["https://id.test.example"]
allowed_approvers = ["admin@test.example"]
allowed_audiences = ["escapes"]
offline = true

[keys]
"https://id.test.example" = "/run/escapes-test/keys/issuer.jwks.json"
'

ensure_user() {
    id "$1" >/dev/null 2>&1 && return 0
    useradd --system --no-create-home --home-dir "/var/empty/$1" --shell /bin/sh "$1"
}

# write_root_file PATH MODE < content
write_root_file() {
    rm -f -- "$1"
    cat >"$1"
    chown 0:0 -- "$1"
    chmod "$2" -- "$1"
}

# fixture_install BIN: the binary root:root 4755 in a root-owned directory.
fixture_install() {
    [ "$(id -u)" = 0 ] || { echo "fixture: must run as root" >&2; return 1; }
    ensure_user "$USER_NAME"
    ensure_user "$OTHER_USER"
    mkdir -p "$ROOT/bin"
    # The integration tests' marker no longer names what is installed.
    rm -f "$ROOT/bin/escapes" "$ROOT/bin/.installed-from"
    cp -- "$1" "$ROOT/bin/escapes"
    chown 0:0 "$ROOT/bin/escapes"
    chmod 4755 "$ROOT/bin/escapes"
}

# fixture_reset MINT: fresh etc/keys/log, default config, pinned key for SEED/KID.
fixture_reset() {
    local mint=$1 d
    rm -rf "$ROOT/etc" "$ROOT/keys" "$ROOT/log"
    for d in etc:755 keys:755 log:700; do
        mkdir -p "$ROOT/${d%%:*}"
        chmod "${d##*:}" "$ROOT/${d%%:*}"
    done
    chmod 755 "$ROOT"
    printf '%s' "$DEFAULT_CONFIG" | write_root_file "$ROOT/etc/config.toml" 644
    "$mint" jwks --seed "$SEED" --kid "$KID" | write_root_file "$ROOT/keys/issuer.jwks.json" 644
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    case "${1:-}" in
        install) fixture_install "$2" ;;
        reset) fixture_reset "$2" ;;
        *) echo "usage: $0 install BIN | reset MINT" >&2; exit 2 ;;
    esac
fi
