#!/bin/sh
# Runs every cargo-fuzz target for SECONDS_PER_TARGET seconds (default 60): the escapes crate's
# (fuzz/) and the helpers crate's (helpers/fuzz/).
#
#   sh fuzz/run.sh [SECONDS_PER_TARGET]
#
# Each target fuzzes a scratch corpus, <crate>/fuzz/corpus-work/<target> (gitignored), seeded from
# the committed <crate>/fuzz/corpus/<target>, so the committed corpora stay small. Logs go to
# <crate>/fuzz/corpus-work/<target>.log, crash artifacts to <crate>/fuzz/artifacts/<target>/.
# Prints one summary line per target (name, executions, status) and exits non-zero if any target
# crashed or failed to run. Stable toolchains get RUSTC_BOOTSTRAP=1 (ASan needs -Z flags);
# FUZZ_SANITIZER=none skips ASan if it misbehaves.
set -eu

secs=${1:-60}
case $secs in
    '' | *[!0-9]*)
        echo "usage: sh fuzz/run.sh [SECONDS_PER_TARGET]" >&2
        exit 2
        ;;
esac

cd "$(dirname "$0")/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

RUSTC_BOOTSTRAP=${RUSTC_BOOTSTRAP:-1}
export RUSTC_BOOTSTRAP
sanitizer=${FUZZ_SANITIZER:-address}
summary_file=$(mktemp "${TMPDIR:-/tmp}/escapes-fuzz-summary.XXXXXX")

failed=0
# The escapes crate's targets (fuzz/) and the helpers crate's own (helpers/fuzz/: one per helper
# parser), each run from its crate's directory.
for crate in . helpers; do
(
cd "$crate"
targets=$(cargo fuzz list)
if [ -z "$targets" ]; then
    echo "fuzz/run.sh: cargo fuzz list found no targets in $crate" >&2
    exit 1
fi

# Build everything once up front so a build error is reported as such, not as a crash.
cargo fuzz build --sanitizer "$sanitizer"

failed=0
for t in $targets; do
    work=fuzz/corpus-work/$t
    log=fuzz/corpus-work/$t.log
    mkdir -p "$work"
    if [ -d "fuzz/corpus/$t" ]; then
        cp -R "fuzz/corpus/$t/." "$work/"
    fi
    echo "== $crate: $t: ${secs}s (log $crate/$log)"
    if cargo fuzz run --sanitizer "$sanitizer" "$t" "$work" -- \
        -max_total_time="$secs" -print_final_stats=1 -timeout=10 >"$log" 2>&1; then
        status=ok
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        if [ -n "$artifact" ]; then
            kind=$(basename "$artifact" | sed 's/-.*//')
            status="$kind $crate/$artifact"
        else
            status="error (see $crate/$log)"
        fi
        tail -n 40 "$log" >&2
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    line=$(printf '%-14s %12s execs  %s' "$t" "${execs:-?}" "$status")
    echo "$line"
    printf '%s\n' "$line" >>"$summary_file"
done
exit "$failed"
) || failed=1
done

echo
echo "fuzz summary (${secs}s per target):"
cat "$summary_file"
rm -f "$summary_file"
exit "$failed"
