#!/bin/sh
# run-kernel.sh EXPECTED_STATUS [REGEX] -- COMMAND...
#
# Runs a test kernel under a VM (bt86 or qemu-system-i386), prints what it
# wrote (stdout and stderr together), and succeeds if the VM's exit status is
# EXPECTED_STATUS and, when REGEX is given, the output matches it (grep -E).
# isa-debug-exit turns the kernel's write of v to port 0xF4 into status
# (v << 1) | 1: 1 means the kernel passed, 3 that it failed.
# KERNEL_TIMEOUT (seconds, default 60) bounds the run; 124 means it hung.
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 EXPECTED_STATUS [REGEX] -- COMMAND..." >&2
    exit 2
fi
expected=$1
shift
regex=
if [ "$1" != "--" ]; then
    regex=$1
    shift
fi
if [ "$1" != "--" ]; then
    echo "$0: expected -- before the command" >&2
    exit 2
fi
shift

out=$(mktemp "${TMPDIR:-/tmp}/run-kernel.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
timeout "${KERNEL_TIMEOUT:-60}" "$@" </dev/null >"$out" 2>&1
status=$?
cat "$out"

fail=0
if [ "$status" -eq 124 ]; then
    echo "run-kernel: timed out after ${KERNEL_TIMEOUT:-60} s: $*"
    fail=1
elif [ "$status" -ne "$expected" ]; then
    echo "run-kernel: exit status $status, expected $expected: $*"
    fail=1
fi
if [ -n "$regex" ] && ! grep -Eq -- "$regex" "$out"; then
    echo "run-kernel: output does not match /$regex/"
    fail=1
fi
exit $fail
