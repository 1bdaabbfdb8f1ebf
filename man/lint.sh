#!/bin/sh
# Lints the man pages: fails on any mandoc warning or error, and on any groff warning when
# groff is installed. Installs mandoc with apt-get if it is missing (needs root for that).
#
# mandoc -Tlint -Wwarning exits 0 when there is nothing at warning level or above, 2 for
# warnings, 3 for errors, 4 for unsupported features, 5 for bad arguments, 6 for system
# errors: anything but 0 fails. Style suggestions (such as a referenced manual that is not
# installed here) are below the warning level and do not fail the lint.
set -eu

cd "$(dirname "$0")"
PAGES="escapes.8 escapes.toml.5 stampctl.8"

if ! command -v mandoc >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
        echo "lint.sh: mandoc is not installed; install it (apt-get install mandoc) and rerun" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -qq install -y mandoc >/dev/null
fi

status=0
for page in $PAGES; do
    rc=0
    mandoc -Tlint -Wwarning "$page" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "lint.sh: $page: mandoc -Tlint -Wwarning exited $rc" >&2
        status=1
    fi
    if command -v groff >/dev/null 2>&1; then
        # groff reports warnings on stderr but still exits 0, so any output is a failure.
        warnings=$(groff -ww -mandoc -Tutf8 -z "$page" 2>&1) || status=1
        if [ -n "$warnings" ]; then
            printf '%s\n' "$warnings" >&2
            echo "lint.sh: $page: groff -ww reported warnings" >&2
            status=1
        fi
    fi
done

[ "$status" -eq 0 ] && echo "lint.sh: $PAGES clean"
exit "$status"
