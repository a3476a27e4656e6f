#!/bin/sh
# profile-test.sh BT86 BENCH_KERNEL — --profile on the bench kernel's fib
# workload (doubly recursive fib(): nearly all the guest's time): the
# report's hottest guest function must be fib, and the folded stacks must
# name it. Only the ranking is checked, never a time.
set -u
bt86=$1
kernel=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/profile-test.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
timeout 120 "$bt86" -display none -device isa-debug-exit --profile "$dir/prof" "$kernel" \
    -append "fib 3000" >"$dir/out" 2>&1
status=$?
cat "$dir/prof"
fail=0
[ "$status" = 1 ] || { echo "profile-test: bt86 exit status $status, expected 1"; cat "$dir/out"; fail=1; }
hottest=$(awk '/^hottest guest functions/ { getline; print $3; exit }' "$dir/prof")
[ "$hottest" = fib ] || { echo "profile-test: hottest function '$hottest', expected fib"; fail=1; }
grep -q '^where the host CPU time goes' "$dir/prof" || { echo "profile-test: no split"; fail=1; }
grep -Eq '^ +[0-9]+ +[0-9.]+% +0x[0-9a-f]{8} +[0-9]+ +[0-9]+ +[0-9.]+ +fib$' "$dir/prof" \
    || { echo "profile-test: no hot block of fib with its sizes"; fail=1; }
grep -Eq '^bt86;guest;fib;translated-code [0-9]+$' "$dir/prof.folded" \
    || { echo "profile-test: folded stacks lack fib"; cat "$dir/prof.folded"; fail=1; }
[ $fail = 0 ] && echo "profile-test: PASS"
exit $fail
