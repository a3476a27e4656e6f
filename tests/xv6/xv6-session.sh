#!/bin/sh
# xv6-session.sh BT86 XV6_DIR [BT86 ARGS...] -- STEP...
#
# Boots xv6 (XV6_DIR/kernel) under bt86 with a temporary copy of its file
# system (XV6_DIR/fs.img) as the primary slave, as xv6's Makefile runs it in
# QEMU, and plays a session on COM1 through stdin. Each STEP is
#   "send TEXT"     type TEXT and a newline
#   "expect REGEX"  wait until the output since the last send matches
#                   (grep -E, line by line)
# The session passes when every expect is met; it fails as soon as bt86
# exits. Waiting is paced by what the guest prints, never by a clock: the
# only time bound is XV6_TIMEOUT seconds (default 600) as a hang guard,
# which ctest's own timeout backs up.
set -u
bt86=$1
xv6=$2
shift 2
args=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    args="$args $1"
    shift
done
[ $# -gt 0 ] && shift

dir=$(mktemp -d "${TMPDIR:-/tmp}/xv6.XXXXXX") || exit 2
pid=
cleanup() {
    exec 3>&- 2>/dev/null
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cp "$xv6/fs.img" "$dir/fs.img" || exit 2
mkfifo "$dir/in" || exit 2
# shellcheck disable=SC2086
"$bt86" -kernel "$xv6/kernel" -drive "file=$dir/fs.img,index=1,media=disk,format=raw" \
    -smp 1 -m 512 $args <"$dir/in" >"$dir/out" 2>&1 &
pid=$!
exec 3>"$dir/in"

mark=0                 # output bytes before the last send
limit=$(( ${XV6_TIMEOUT:-600} * 10 ))
wait_for() {
    n=0
    while :; do
        if tail -c +$((mark + 1)) "$dir/out" | grep -Eq -- "$1"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "xv6-session: bt86 exited while waiting for /$1/"
            return 1
        fi
        n=$((n + 1))
        if [ $n -gt $limit ]; then
            echo "xv6-session: no /$1/ after ${XV6_TIMEOUT:-600} s"
            return 1
        fi
        sleep 0.1
    done
}

status=0
for step in "$@"; do
    case $step in
    send\ *)
        mark=$(wc -c <"$dir/out")
        printf '%s\n' "${step#send }" >&3 ;;
    expect\ *)
        if ! wait_for "${step#expect }"; then
            status=1
            break
        fi ;;
    *)
        echo "xv6-session: bad step '$step'"
        status=2
        break ;;
    esac
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
cat "$dir/out"
echo
[ $status -eq 0 ] && echo "xv6-session: all steps passed"
exit $status
