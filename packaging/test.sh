#!/usr/bin/env bash
# The packaging tests (make test-packaging; run as root). See packaging/README.md.
#
#   test.sh DEB STATIC_ESCAPES ESCAPES_MINT
#
# 1. lintian: no tag on the .deb but the overridden ones (packaging/debian/lintian-overrides).
# 2. The .deb in a fresh root: a directory holding only the packages escapes depends on (the
#    host's libc6, libgcc-s1, ... copied with their dpkg database entries) and busybox-static,
#    into which the host's dpkg installs the .deb with --root (maintainer scripts run chrooted).
#    Checks owners, modes and conffile; the sample config refuses; a real config runs a grant
#    for an unprivileged caller; remove and purge behave.
# 3. The minimal image: a chroot made from an empty directory holding only the static escapes
#    (setuid root), its config, its key file, the audit directory and a static busybox as the
#    command. No libc, no /etc/passwd, no /etc/nsswitch.conf, no /dev, no /proc.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 DEB STATIC_ESCAPES ESCAPES_MINT" >&2; exit 2; }
DEB=$(realpath "$1") STATIC=$(realpath "$2") MINT=$(realpath "$3")
[ "$(id -u)" = 0 ] || { echo "test.sh must run as root (chroot, setuid files, dpkg --root)" >&2; exit 1; }

# What the test needs on the host, installed quietly if missing.
need=()
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'static' || need+=(busybox-static)
command -v lintian >/dev/null || need+=(lintian)
command -v python3 >/dev/null || need+=(python3)
command -v file >/dev/null || need+=(file)
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update >/dev/null
    apt-get -qq install -y "${need[@]}" >/dev/null
fi
BUSYBOX=/bin/busybox

W=$(mktemp -d /tmp/escapes-pkgtest.XXXXXX)
cleanup() { if [ -n "${KEEP:-}" ]; then echo "kept $W"; else rm -rf "$W"; fi; }
trap cleanup EXIT
chmod 0755 "$W"

pass=0
say() { printf '\n== %s\n' "$*"; }
ok() { pass=$((pass + 1)); printf '  ok   %s\n' "$*"; }
die() { printf '  FAIL %s\n' "$*" >&2; exit 1; }
expect_eq() { if [ "$1" = "$2" ]; then ok "$3"; else die "$3: got [$1], want [$2]"; fi; }

# Runs escapes inside a chroot as uid/gid 65534 with no privileges of ours (at most 60 s); sets
# rc, out, err.
# stdin is /dev/null from the host, so escapes never needs a /dev of its own.
as_nobody() { # ROOT ARGS...
    local root=$1; shift
    rc=0
    out=$(timeout 60 chroot --userspec=65534:65534 --groups=65534 "$root" "$@" </dev/null 2>"$W/stderr") || rc=$?
    err=$(cat "$W/stderr")
}
# The last audit line of ROOT as "field=value ..." for the named fields; fails on a line that is
# not a JSON object.
audit_tail() { # ROOT FIELD...
    python3 - "$@" <<'PY'
import json, sys
root, fields = sys.argv[1], sys.argv[2:]
lines = open(root + "/var/log/openape/audit.log", "rb").read().decode().splitlines()
for n, line in enumerate(lines, 1):
    if not isinstance(json.loads(line), dict):
        sys.exit(f"audit line {n} is not a JSON object")
last = json.loads(lines[-1])
print(" ".join(f"{f}={json.dumps(last.get(f), separators=(',', ':'))}" for f in fields))
PY
}

# escapes --verify-log inside ROOT: the hash chain covers every line of the audit log.
verify_log() { # ROOT ESCAPES
    local n; n=$(wc -l < "$1/var/log/openape/audit.log")
    expect_eq "$(chroot "$1" "$2" --verify-log /var/log/openape/audit.log </dev/null 2>&1)" \
        "audit log intact: $n lines chained" "escapes --verify-log: all $n audit lines chained"
}

# One throwaway issuer for both roots.
ISSUER=https://id.pkgtest.example
APPROVER=admin@pkgtest.example
SEED=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
KID="pkgtest-$(date +%s)"
"$MINT" jwks --seed "$SEED" --kid "$KID" > "$W/issuer.jwks.json"
grant() { # HOST GRANT_TYPE ARGV_JSON [ISSUER [APPROVER]]
    local now; now=$(date +%s)
    "$MINT" sign --seed "$SEED" --kid "$KID" --claims "{\"iss\":\"${4:-$ISSUER}\",\"sub\":\"agent@pkgtest.example\",\"aud\":\"escapes\",\"target_host\":\"$1\",\"iat\":$now,\"exp\":$((now + 600)),\"jti\":\"pkgtest-$RANDOM$RANDOM\",\"grant_id\":\"pkgtest-$2\",\"grant_type\":\"$2\",\"decided_by\":\"${5:-$APPROVER}\",\"command\":$3}"
}
write_config() { # ROOT HOST
    install -m 0644 "$W/issuer.jwks.json" "$1/etc/openape/keys/issuer.jwks.json"
    cat > "$1/etc/openape/config.toml" <<EOF
host = "$2"

[security]
allowed_issuers = ["$ISSUER"]
allowed_approvers = ["$APPROVER"]
offline = true

[keys]
"$ISSUER" = "/etc/openape/keys/issuer.jwks.json"
EOF
    chmod 0644 "$1/etc/openape/config.toml"
}

say "lintian $(basename "$DEB")"
lint=$(lintian --pedantic -E -I "$DEB" 2>&1 | grep -v '^running with root privileges' || true)
[ -z "$lint" ] || { printf '%s\n' "$lint" >&2; die "lintian reports tags that are not overridden"; }
ok "lintian --pedantic -E -I: nothing but the overridden tags"

###############################################################################################
say "The .deb in a fresh root"
R=$W/debroot
mkdir -p "$R"/{etc,root,tmp,usr/bin,usr/sbin,usr/lib,var/lib/dpkg/{info,updates,triggers}}
chmod 1777 "$R/tmp"
for d in bin sbin lib lib64 libx32 lib32; do # the host's usr-merge links, if it has them
    if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$R/$d"; mkdir -p "$R/$(readlink -f "/$d" | sed 's,^/,,')"; fi
done
# The packages escapes depends on, recursively, and busybox-static for a shell: their files and
# their dpkg status, info and file lists, exactly as installed on this host.
deps() { dpkg-deb -f "$DEB" Depends; }
want=$(deps | tr ',' '\n' | sed 's/[|].*//; s/(.*//; s/:.*//; s/ //g')
have=""
while [ -n "$want" ]; do
    next=""
    for p in $want; do
        case " $have " in *" $p "*) continue ;; esac
        have="$have $p"
        next="$next $(dpkg-query -W -f '${Pre-Depends},${Depends}' "$p" 2>/dev/null | tr ',' '\n' | sed 's/[|].*//; s/(.*//; s/:.*//; s/ //g')"
    done
    want=$next
done
have="$have busybox-static"
: > "$R/var/lib/dpkg/status"
for p in $have; do
    arch=$(dpkg-query -W -f '${Architecture}' "$p")
    dpkg-query -L "$p" | while read -r f; do
        if [ -f "$f" ] || [ -L "$f" ]; then cp -a --parents "$f" "$R"; elif [ -d "$f" ]; then mkdir -p "$R$f"; fi
    done
    dpkg-query -s "$p" >> "$R/var/lib/dpkg/status"
    echo >> "$R/var/lib/dpkg/status"
    cp -a /var/lib/dpkg/info/"$p".* /var/lib/dpkg/info/"$p:$arch".* "$R/var/lib/dpkg/info/" 2>/dev/null || true
done
for a in sh rm id cat; do ln -s busybox "$R/usr/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$R/etc/group"
chmod 0644 "$R/etc/passwd" "$R/etc/group"
ok "root prepared with:$have"

dpkg --root="$R" --log=/dev/null -i "$DEB" >"$W/dpkg.out" 2>&1 || { cat "$W/dpkg.out" >&2; die "dpkg --root -i"; }
ok "dpkg --root=ROOT -i $(basename "$DEB")"
expect_eq "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Status}' escapes)" "install ok installed" "dpkg database: escapes installed"
expect_eq "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Conffiles}' escapes | awk '{print $1}' | grep . | sort | tr '\n' ' ')" "/etc/logrotate.d/escapes /etc/openape/config.toml " "dpkg database: the config and the logrotate snippet are the conffiles"
verify=$(dpkg --root="$R" -V escapes 2>&1) || true
expect_eq "$verify" "" "dpkg -V: every file matches its md5sum"
mode() { stat -c '%a %U:%G %F' "$R$1"; }
expect_eq "$(mode /usr/bin/escapes)" "4755 root:root regular file" "/usr/bin/escapes is setuid root"
expect_eq "$(mode /var/log/openape)" "700 root:root directory" "/var/log/openape is root-only"
expect_eq "$(mode /var/cache/openape)" "700 root:root directory" "/var/cache/openape is root-only"
expect_eq "$(mode /etc/openape)" "755 root:root directory" "/etc/openape"
expect_eq "$(mode /etc/openape/config.toml)" "644 root:root regular file" "/etc/openape/config.toml"
expect_eq "$(mode /etc/logrotate.d/escapes)" "644 root:root regular file" "/etc/logrotate.d/escapes"
grep -qx '    delaycompress' "$R/etc/logrotate.d/escapes" && grep -qx '/var/log/openape/audit.log {' "$R/etc/logrotate.d/escapes" \
    || die "/etc/logrotate.d/escapes: not the snippet for /var/log/openape/audit.log with delaycompress"
ok "logrotate snippet: /var/log/openape/audit.log, delaycompress"
for f in /usr/share/man/man8/escapes.8.gz /usr/share/man/man5/escapes.toml.5.gz /usr/share/doc/escapes/copyright; do
    [ -f "$R$f" ] || die "$f missing"
done
ok "man pages and copyright installed"

# The helpers: one program under every name (the Makefile's HELPERS), hard links in both
# libexec directories, never symbolic links (escapes refuses a helper path that is one).
HELPERS="timebox envauth manifest signed coat stamp stampctl sheval xdisplay proxy-agent"
n=0
for h in $HELPERS; do
    for d in /usr/libexec/escapes /usr/libexec/jacket; do
        expect_eq "$(mode "$d/$h")" "755 root:root regular file" "$d/$h" >/dev/null
        [ "$R$d/$h" -ef "$R/usr/libexec/escapes/timebox" ] || die "$d/$h is not the helper program"
        n=$((n + 1))
    done
done
expect_eq "$(stat -c %h "$R/usr/libexec/escapes/timebox")" "$n" "the helpers: one file, $n hard links ($HELPERS in libexec/escapes and libexec/jacket)"
# Issue 13: the installed helpers, every file once, at most HELPER_MAX_BYTES (the Makefile's) together.
size=$(for h in $HELPERS; do stat -c '%d:%i %s' "$R/usr/libexec/escapes/$h" "$R/usr/libexec/jacket/$h"; done | sort -u | awk '{ t += $2 } END { print t + 0 }')
[ "$size" -le "${HELPER_MAX_BYTES:-1500000}" ] || die "the installed helpers take $size bytes, over ${HELPER_MAX_BYTES:-1500000}"
ok "the installed helpers take $size bytes together (at most ${HELPER_MAX_BYTES:-1500000})"
expect_eq "$(readlink "$R/usr/sbin/stampctl")" "../libexec/escapes/stampctl" "/usr/sbin/stampctl links to libexec/escapes/stampctl"
[ -f "$R/usr/share/man/man8/stampctl.8.gz" ] || die "stampctl.8.gz missing"
for h in $HELPERS; do
    v=$(chroot "$R" "/usr/libexec/jacket/$h" -V </dev/null | head -n 1)
    case $v in "$h: escapes-helpers "*) ;; *) die "/usr/libexec/jacket/$h -V: [$v]" ;; esac
done
ok "every helper answers -V under its own name"
rc=0; chroot "$R" /usr/sbin/stampctl -V </dev/null >"$W/out" 2>&1 || rc=$?
expect_eq "$rc:$(head -n 1 "$W/out")" "0:stampctl: escapes-helpers $(dpkg-deb -f "$DEB" Version)" "/usr/sbin/stampctl -V"
ln "$R/usr/libexec/escapes/timebox" "$R/tmp/not-a-helper"
rc=0; chroot "$R" /tmp/not-a-helper -V </dev/null >/dev/null 2>"$W/err" || rc=$?
rm "$R/tmp/not-a-helper"
expect_eq "$rc" 64 "the program under any other name: the list of helpers, exit 64"
grep -q 'proxy-agent' "$W/err" || die "no list of helpers: $(cat "$W/err")"
expect_eq "$(chroot "$R" /usr/bin/escapes --version </dev/null | sed -n 's/^config: //p')" "/etc/openape/config.toml" "compiled-in config path"

say "The sample config refuses"
HOST=$(uname -n)
chroot "$R" /usr/bin/escapes --check-config </dev/null >"$W/check" 2>&1 || true
sed 's/^/    /' "$W/check"
as_nobody "$R" /usr/bin/escapes --grant "$(grant "$HOST" always '["/usr/bin/id","-u"]')" -- /usr/bin/id -u
expect_eq "$rc:$out" "5:" "a valid grant from an unlisted issuer: exit 5, nothing ran"
expect_eq "$(audit_tail "$R" event error)" 'event="refused" error="issuer_not_allowed"' "audit: refused, issuer_not_allowed"
as_nobody "$R" /usr/bin/escapes --grant "$(grant "$HOST" always '["/usr/bin/id","-u"]' https://idp.invalid nobody@idp.invalid)" -- /usr/bin/id -u
expect_eq "$rc:$out" "1:" "a grant naming the placeholder issuer itself: exit 1 (no key can be had for it), nothing ran"
echo "    stderr: $err"
expect_eq "$(audit_tail "$R" event)" 'event="refused"' "audit: refused"

say "A real config, a grant run by an unprivileged user"
write_config "$R" deb-root
chroot "$R" /usr/bin/escapes --check-config </dev/null >"$W/check" 2>&1 || { cat "$W/check" >&2; die "--check-config"; }
ok "escapes --check-config passes"
as_nobody "$R" /usr/bin/escapes --grant "$(grant deb-root always '["/usr/bin/id","-u"]')" -- /usr/bin/id -u
expect_eq "$rc:$out" "0:0" "as uid 65534: escapes -- /usr/bin/id -u runs as root"
expect_eq "$(audit_tail "$R" event exit_code real_uid command)" 'event="exit" exit_code=0 real_uid=65534 command=["/usr/bin/id","-u"]' "audit: exit line"
as_nobody "$R" /usr/bin/escapes --run-as nobody --grant "$(grant deb-root timed '["/usr/bin/id","-un"]')" -- /usr/bin/id -un
expect_eq "$rc:$out" "0:nobody" "--run-as nobody resolves through the root's /etc/passwd"
verify_log "$R" /usr/bin/escapes

say "Remove and purge"
touch "$R/var/cache/openape/stale-entry"
dpkg --root="$R" --log=/dev/null -r escapes >"$W/dpkg.out" 2>&1 || { cat "$W/dpkg.out" >&2; die "dpkg -r"; }
if [ -e "$R/usr/bin/escapes" ] || [ ! -f "$R/etc/openape/config.toml" ]; then die "remove: binary gone, conffile kept"; fi
for h in $HELPERS; do
    if [ -e "$R/usr/libexec/escapes/$h" ] || [ -e "$R/usr/libexec/jacket/$h" ]; then die "remove: $h left behind"; fi
done
[ ! -e "$R/usr/sbin/stampctl" ] && [ ! -L "$R/usr/sbin/stampctl" ] || die "remove: /usr/sbin/stampctl left behind"
ok "dpkg -r: binary gone, edited conffile kept"
dpkg --root="$R" --log=/dev/null -P escapes >"$W/dpkg.out" 2>&1 || { cat "$W/dpkg.out" >&2; die "dpkg -P"; }
if [ -e "$R/etc/openape/config.toml" ] || [ -e "$R/etc/logrotate.d/escapes" ] || [ -e "$R/var/cache/openape" ] || [ ! -s "$R/var/log/openape/audit.log" ]; then
    die "purge: conffile and cache gone, audit log kept"
fi
ok "dpkg -P: conffile and JWKS cache gone (postrm ran chrooted), audit log kept"

###############################################################################################
say "Minimal image: an empty directory, the static escapes and a static busybox"
M=$W/image
install -d -m 0755 "$M" "$M/bin" "$M/etc" "$M/etc/openape" "$M/etc/openape/keys" "$M/var" "$M/var/log"
install -d -m 0700 "$M/var/log/openape"
install -m 4755 "$STATIC" "$M/bin/escapes"
install -m 0755 "$BUSYBOX" "$M/bin/busybox"
write_config "$M" minimal-image
for f in "$M/bin/escapes" "$M/bin/busybox"; do
    file -L "$f" | grep -q 'static' || die "$f is not statically linked: $(file -L "$f")"
done
(cd "$M" && find . -mindepth 1 | sort | sed 's/^/    /')
expect_eq "$(find "$M" -name '*.so*' -o -name passwd -o -name group -o -name nsswitch.conf -o -name dev -o -name proc | wc -l)" 0 "no libc, no passwd, group or nsswitch.conf, no /dev or /proc"
expect_eq "$(chroot "$M" /bin/escapes --version </dev/null | sed -n 's/^config: //p')" "/etc/openape/config.toml" "compiled-in config path"

TOKEN=$(grant minimal-image always '["/bin/busybox","id"]')
as_nobody "$M" /bin/escapes --grant "$TOKEN" -- /bin/busybox id
expect_eq "$rc:$out" "0:uid=0 gid=0 groups=0" "as uid 65534: escapes -- /bin/busybox id runs as root"
expect_eq "$(audit_tail "$M" event exit_code real_uid run_as program)" 'event="exit" exit_code=0 real_uid=65534 run_as="root" program="/bin/busybox"' "audit: exit line"

HEADER=${TOKEN%%.*} SIG=${TOKEN##*.}
EVIL=$(grant minimal-image always '["/bin/busybox","sh","-c","echo pwned"]')
as_nobody "$M" /bin/escapes --grant "$HEADER.$(echo "$EVIL" | cut -d. -f2).$SIG" -- /bin/busybox sh -c 'echo pwned'
expect_eq "$rc:$out" "5:" "a tampered grant (payload swapped, signature kept): exit 5, nothing ran"
expect_eq "$(audit_tail "$M" event error)" 'event="refused" error="signature_invalid"' "audit: refused, signature_invalid"

as_nobody "$M" /bin/escapes --run-as nobody --grant "$TOKEN" -- /bin/busybox id
expect_eq "$rc:$out" "1:" "--run-as nobody without /etc/passwd: exit 1, nothing ran"
verify_log "$M" /bin/escapes
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print("    " + "  ".join(f"{k}={json.dumps(r[k])}" for k in ("event", "error", "exit_code", "real_uid", "command") if k in r))
' "$M/var/log/openape/audit.log"

printf '\ntest.sh: all %d checks passed\n' "$pass"
