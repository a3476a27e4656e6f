#!/bin/sh
# ide-disk.sh DISKIMG written|pristine -- COMMAND...
#
# Makes a scratch disk image with DISKIMG (pattern A), runs COMMAND (a VM
# with the ide kernel) with it as the primary master, then checks the file:
# "written" expects the kernel's writes in it, "pristine" (for -snapshot)
# expects it unchanged. The image is removed afterwards.
set -u
diskimg=$1
expect=$2
shift 2
[ "$1" = "--" ] && shift
here=$(dirname "$0")
img=$(mktemp "${TMPDIR:-/tmp}/ide-disk.XXXXXX") || exit 2
trap 'rm -f "$img"' EXIT
"$diskimg" create "$img" || exit 1
sh "$here/run-kernel.sh" 1 "PASS ide" -- "$@" -drive "file=$img,index=0,format=raw,media=disk" || exit 1
if [ "$expect" = pristine ]; then
    cmp -s "$img" /dev/null && exit 1
    "$diskimg" create "$img.want" && cmp "$img" "$img.want"
    status=$?
    rm -f "$img.want"
    [ $status -eq 0 ] && echo "ide-disk: image untouched"
    exit $status
fi
"$diskimg" check "$img"
