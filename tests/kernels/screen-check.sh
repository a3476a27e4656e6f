#!/bin/sh
# screen-check.sh EXPECTED_FILE -- COMMAND...
#
# Runs COMMAND (bt86 with a test kernel) with --screen pointing at a
# temporary file, expects the kernel to pass (exit status 1), and compares
# the screen file with EXPECTED_FILE.
set -u
expected=$1
shift
[ "$1" = "--" ] && shift
here=$(dirname "$0")
screen=$(mktemp "${TMPDIR:-/tmp}/screen.XXXXXX") || exit 2
trap 'rm -f "$screen"' EXIT
sh "$here/run-kernel.sh" 1 "^PASS " -- "$@" --screen "$screen" || exit 1
if ! cmp -s "$screen" "$expected"; then
    echo "screen-check: --screen output differs from $expected:"
    diff "$expected" "$screen"
    exit 1
fi
echo "screen-check: --screen output as expected"
