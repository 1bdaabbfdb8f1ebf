#!/bin/sh
# Builds the escapes Debian package from a finished release build, with dpkg-deb alone (no
# debhelper, no extra crates). Called by `make deb`; see packaging/README.md.
#
#   build-deb.sh BIN_DIR OUT.deb [HELPER...]
#
# BIN_DIR holds the release escapes; HELPER_DIR (default BIN_DIR) holds escapes-helper, the one
# program of every standard helper (built with --profile helper), installed once and hard-linked as each HELPER name in /usr/libexec/escapes and
# /usr/libexec/jacket (where op's examples look), with /usr/sbin/stampctl a symbolic link to its
# libexec name when stampctl is among them.
# SOURCE_DATE_EPOCH must be set: every date in the package comes from it, every mtime is set to
# it, and dpkg-deb sorts the archive, so the same binaries always give the same .deb.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 BIN_DIR OUT.deb [HELPER...]" >&2; exit 2; }
bindir=$1 out=$2
shift 2
: "${SOURCE_DATE_EPOCH:?build-deb.sh: set SOURCE_DATE_EPOCH (make deb does)}"
export SOURCE_DATE_EPOCH
CARGO=${CARGO:-cargo}
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
umask 022
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
pkg=$here/debian
version=$(sed -n 's/^version *= *"\(.*\)"$/\1/p' "$top/Cargo.toml" | head -n 1)
arch=$(dpkg --print-architecture)
[ -n "$version" ] || { echo "build-deb.sh: no version in Cargo.toml" >&2; exit 1; }

# The package must carry the standard paths, whatever the caller's environment was at build
# time (make test and make demo build with ESCAPES_CONFIG_PATH pointing at a fixture).
want='config: /etc/openape/config.toml'
if ! "$bindir/escapes" --version | grep -qx "$want"; then
    echo "build-deb.sh: $bindir/escapes was not built with the default config path:" >&2
    "$bindir/escapes" --version >&2
    exit 1
fi
if ! command -v dpkg-shlibdeps >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get -qq install -y dpkg-dev >/dev/null
    else
        echo "build-deb.sh: dpkg-shlibdeps is missing: apt-get install dpkg-dev" >&2
        exit 1
    fi
fi

root=$(dirname "$out")/root
rm -rf "$root" "$out"
mkdir -p "$root"
root=$(cd "$root" && pwd)

# Files: owners come from dpkg-deb --root-owner-group (everything root:root), modes from here.
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man8" \
    "$root/usr/share/man/man5" "$root/usr/share/doc/escapes" "$root/usr/share/lintian/overrides" \
    "$root/etc/openape" "$root/etc/openape/keys" "$root/etc/logrotate.d"
install -d -m 0700 "$root/var/log/openape" "$root/var/cache/openape"
install -m 4755 "$bindir/escapes" "$root/usr/bin/escapes"
# As dh_strip does: .comment only names the compilers and linker (cargo's strip keeps it).
objcopy --remove-section=.comment "$root/usr/bin/escapes"
if [ $# -gt 0 ]; then
    install -d -m 0755 "$root/usr/libexec/escapes" "$root/usr/libexec/jacket"
    main=$root/usr/libexec/escapes/$1
    install -m 0755 "${HELPER_DIR:-$bindir}/escapes-helper" "$main"
    # Before the links: objcopy writes a new file, which would leave the links on the old one.
    objcopy --remove-section=.comment "$main"
    for h in "$@"; do
        [ "$root/usr/libexec/escapes/$h" = "$main" ] || ln "$main" "$root/usr/libexec/escapes/$h"
        ln "$main" "$root/usr/libexec/jacket/$h"
        if [ "$h" = stampctl ]; then
            install -d -m 0755 "$root/usr/sbin"
            ln -s ../libexec/escapes/stampctl "$root/usr/sbin/stampctl"
        fi
    done
fi
gzip -9n < "$top/man/escapes.8" > "$root/usr/share/man/man8/escapes.8.gz"
gzip -9n < "$top/man/escapes.toml.5" > "$root/usr/share/man/man5/escapes.toml.5.gz"
if [ -L "$root/usr/sbin/stampctl" ]; then
    gzip -9n < "$top/man/stampctl.8" > "$root/usr/share/man/man8/stampctl.8.gz"
    chmod 0644 "$root/usr/share/man/man8/stampctl.8.gz"
fi
install -m 0644 "$pkg/config.toml" "$root/etc/openape/config.toml"
# Rotation that keeps the hash chain (issue 15): the snippet `make install` installs too.
install -m 0644 "$here/logrotate" "$root/etc/logrotate.d/escapes"
# Static binaries (no NEEDED entry: make deb's default) and dynamic ones draw different tags.
if readelf -dW "$bindir/escapes" | grep -q NEEDED; then link=dynamic; else link=static; fi
cat "$pkg/lintian-overrides" "$pkg/lintian-overrides.$link" > "$root/usr/share/lintian/overrides/escapes"
chmod 0644 "$root/usr/share/lintian/overrides/escapes"
install -m 0644 "$pkg/conffiles" "$root/DEBIAN/conffiles"
install -m 0755 "$pkg/postrm" "$root/DEBIAN/postrm"
chmod 0644 "$root/usr/share/man/man8/escapes.8.gz" "$root/usr/share/man/man5/escapes.toml.5.gz"

# A native package's changelog, dated SOURCE_DATE_EPOCH.
{
    printf 'escapes (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * Built from the escapes source tree with make deb.\n\n'
    printf ' -- escapes team <team@escapes.invalid>  %s\n' "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$root/usr/share/doc/escapes/changelog.gz"
chmod 0644 "$root/usr/share/doc/escapes/changelog.gz"

# copyright: ours, then one stanza per crate linked into the binaries (from Cargo.lock), then
# the license texts. A license with no text in copyright.licenses is reported here, and lintian
# fails on it (missing-license-paragraph-in-dep5-copyright).
copyright=$root/usr/share/doc/escapes/copyright
cp "$pkg/copyright.head" "$copyright"
pkgs="-p escapes"
[ $# -gt 0 ] && pkgs="$pkgs -p escapes-helpers"
# shellcheck disable=SC2086 # $pkgs is a list of options
(cd "$top" && "$CARGO" tree --locked --offline -e normal,no-proc-macro --prefix none -f '{p}|{l}' $pkgs) \
    | sed 's/ (\*)$//' | grep '|' | grep -v ' (/' | sort -u > "$root/crates"
while IFS='|' read -r crate license; do
    name=${crate% v*} ver=${crate##* v}
    dir=/nonexistent
    for d in "$CARGO_HOME"/registry/src/*/"$name-$ver"; do
        if [ -d "$d" ]; then dir=$d; break; fi
    done
    holders=$(cat "$dir"/LICENSE* "$dir"/LICENCE* "$dir"/COPYRIGHT* "$dir"/COPYING* 2>/dev/null | tr -d '\r' \
        | sed -n 's,^[/#* ]*\(Copyright\( (c)\| (C)\| ©\)* [0-9(].*\),\1,p' | sed 's/ *$//' | sort -u)
    [ -n "$holders" ] || holders="the $name developers (no copyright line in the crate's license files)"
    dep5=$(printf '%s' "$license" | sed -e 's/ OR / or /g' -e 's/ AND / and /g' -e 's,/, or ,g' -e 's/[()]//g')
    for l in $dep5; do
        case $l in or|and) continue ;; esac
        grep -qx "License: $l" "$pkg/copyright.licenses" || \
            echo "build-deb.sh: warning: no license text for $l ($name $ver) in packaging/debian/copyright.licenses" >&2
    done
    printf '\nFiles: crates.io/%s-%s/*\nCopyright: %s\nLicense: %s\n' \
        "$name" "$ver" "$(printf '%s\n' "$holders" | sed '2,$s/^/ /')" "$dep5" >> "$copyright"
done < "$root/crates"
rm "$root/crates"
cat "$pkg/copyright.licenses" >> "$copyright"
chmod 0644 "$copyright"

# md5sums of everything but the conffiles (as dh_md5sums does).
conf=$(mktemp)
sed 's,^/,,' "$pkg/conffiles" > "$conf"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's,^\./,,' \
    | grep -vxF -f "$conf" | sort | xargs -r md5sum) > "$root/DEBIAN/md5sums"
rm "$conf"
chmod 0644 "$root/DEBIAN/md5sums"

# control: the version from Cargo.toml, Depends from the ELF files' NEEDED entries.
elves="$root/usr/bin/escapes"
[ $# -gt 0 ] && elves="$elves $root/usr/libexec/escapes/$1"
shlib=$(mktemp -d)
mkdir "$shlib/debian"
printf 'Source: escapes\n\nPackage: escapes\nArchitecture: any\n' > "$shlib/debian/control"
# shellcheck disable=SC2086 # $elves is a list of paths without spaces
depends=$(cd "$shlib" && dpkg-shlibdeps -O $elves 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlib"
# Statically linked binaries (make deb's default, LINK=static) need no shared library at all,
# and then the package has no Depends line. A dynamic build must have some.
if [ "$link" = dynamic ] && [ -z "$depends" ]; then
    echo "build-deb.sh: dpkg-shlibdeps found no dependencies for dynamically linked binaries" >&2
    exit 1
fi
# Installed-Size in KiB, every inode once (the helpers are one file under many names).
size=$(find "$root" -mindepth 1 -path "$root/DEBIAN" -prune -o \( -type f -printf '%i %s\n' -o -printf 'x 1\n' \) \
    | awk '$1 == "x" || !seen[$1]++ { s += int(($2 + 1023) / 1024) } END { print s }')
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
    -e "s/@INSTALLED_SIZE@/$size/" -e '/^Depends: $/d' "$pkg/control.in" > "$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control"

find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --threads-max=1 --build "$root" "$out" >/dev/null
echo "build-deb.sh: $out"
