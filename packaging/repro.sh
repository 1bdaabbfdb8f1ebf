#!/bin/sh
# Reproducible-build check (issue 6): builds the release escapes binary and the helpers twice,
# from two copies of the source tree at different paths, into two different target dirs, and
# fails unless every shipped binary is byte-for-byte identical (sha256).
#
#   sh packaging/repro.sh            # make repro
#
# Both builds use what `make deb` uses: the shipped link mode (SHIP_FLAGS and SHIP_RUSTFLAGS from
# the Makefile: static by default), the build-time paths unset, source, target and cargo-home
# paths remapped, SOURCE_DATE_EPOCH (default: the last commit's date), --locked. The copies are
# of the working tree (tracked and untracked, not ignored, files), so uncommitted edits count.
# REPRO_DIR (default: a fresh directory under ${TMPDIR:-/tmp}) holds everything; it is removed
# on success and kept on failure for diffoscope.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
CARGO=${CARGO:-cargo}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
SHIP_FLAGS=${SHIP_FLAGS:-}
SHIP_RUSTFLAGS=${SHIP_RUSTFLAGS:-}
# Where the binaries land: target/<triple>/release (escapes) and target/<triple>/helper (the
# helper program, --profile helper) when built with --target.
sub=release
hsub=helper
case $SHIP_FLAGS in --target\ *) sub="${SHIP_FLAGS#--target }/release" hsub="${SHIP_FLAGS#--target }/helper" ;; esac
cargo_home=${CARGO_HOME:-$HOME/.cargo}
work=${REPRO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/escapes-repro.XXXXXX")}
mkdir -p "$work"

# escapes, and escapes-helper: every standard helper is that one program under another name.
bins="escapes escapes-helper"

# One build: copy the tree to $1 (a path unlike the other build's), build into $2.
build() {
    src=$1
    target=$2
    mkdir -p "$src"
    git ls-files -z --cached --others --exclude-standard \
        | tar -c -f - -C "$top" --null --no-recursion --ignore-failed-read -T - \
        | tar -C "$src" -xf -
    (
        cd "$src"
        env -u ESCAPES_CONFIG_PATH -u ESCAPES_CACHE_DIR -u RUSTC_WRAPPER \
            CARGO_TARGET_DIR="$target" \
            RUSTFLAGS="$SHIP_RUSTFLAGS --remap-path-prefix=$src=/usr/src/escapes --remap-path-prefix=$target=/usr/src/escapes/target --remap-path-prefix=$cargo_home=/usr/share/cargo" \
            "$CARGO" build --release --locked -p escapes $SHIP_FLAGS
        env -u ESCAPES_CONFIG_PATH -u ESCAPES_CACHE_DIR -u ESCAPES_STAMP_ROOT -u RUSTC_WRAPPER \
            CARGO_TARGET_DIR="$target" \
            RUSTFLAGS="$SHIP_RUSTFLAGS --remap-path-prefix=$src=/usr/src/escapes --remap-path-prefix=$target=/usr/src/escapes/target --remap-path-prefix=$cargo_home=/usr/share/cargo" \
            "$CARGO" build --profile helper --locked -p escapes-helpers $SHIP_FLAGS
    )
}

start=$(date +%s)
build "$work/a/escapes" "$work/a/target"
build "$work/second-copy/src/escapes-other-path" "$work/target-b"
end=$(date +%s)

status=0
for b in $bins; do
    d=$sub
    [ "$b" = escapes-helper ] && d=$hsub
    a=$work/a/target/$d/$b
    z=$work/target-b/$d/$b
    # The release profile strips already (strip = true); strip copies again so that a profile
    # change cannot make the comparison include debug info by accident.
    strip -o "$a.stripped" "$a"
    strip -o "$z.stripped" "$z"
    ha=$(sha256sum <"$a.stripped" | cut -d' ' -f1)
    hz=$(sha256sum <"$z.stripped" | cut -d' ' -f1)
    if [ "$ha" = "$hz" ]; then
        printf 'same      %-14s %s\n' "$b" "$ha"
    else
        printf 'DIFFERENT %-14s %s %s\n' "$b" "$ha" "$hz"
        status=1
    fi
done
echo "repro: two builds in $((end - start)) s (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
if [ "$status" -eq 0 ]; then
    rm -rf "$work"
    echo "repro: OK, the builds are byte-for-byte identical"
else
    echo "repro: FAILED, builds differ; kept in $work (try: diffoscope $work/a/target/$sub/escapes $work/target-b/$sub/escapes)" >&2
fi
exit "$status"
